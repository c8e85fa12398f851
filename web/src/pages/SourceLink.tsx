import { useTranslation } from "react-i18next";
import { Link } from "wouter";

import type { Schemas } from "../api/client";

type Source = Pick<
  Schemas["Citation"],
  "document_id" | "section" | "title" | "filename" | "source_url"
>;

/** Where a citation or a search hit comes from: its section (under its document's title),
 * opening the document; its file name; and the page it came from, when it says so. */
export function SourceLink({ source }: { source: Source }) {
  const { t } = useTranslation();
  const section = encodeURIComponent(source.section ?? "");
  return (
    <>
      <Link href={`/documents/${source.document_id}?section=${section}`}>
        {source.section || source.title || source.filename || t("rag.document")}
      </Link>
      {source.filename && <span className="hint"> · {source.filename}</span>}
      {source.source_url && (
        <>
          {" · "}
          <a href={source.source_url} target="_blank" rel="noopener noreferrer">
            {t("rag.original")}
          </a>
        </>
      )}
    </>
  );
}
