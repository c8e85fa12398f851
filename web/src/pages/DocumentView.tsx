import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearch } from "wouter";

import { detailOf, type Api, type Schemas } from "../api/client";

/** One document, opened from a citation or a search hit: what it is and the section cited. */
export function DocumentView({ api, documentId }: { api: Api; documentId: string }) {
  const { t } = useTranslation();
  const section = new URLSearchParams(useSearch()).get("section");
  const [document, setDocument] = useState<Schemas["DocumentStatus"] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    void api
      .GET("/v1/documents/{document_id}", { params: { path: { document_id: documentId } } })
      .then(({ data, error }) =>
        error ? setProblem(detailOf(error, "")) : setDocument(data ?? null),
      );
  }, [api, documentId]);

  const detail = (document?.detail ?? {}) as { filename?: string; collection?: string };
  return (
    <main className="page">
      <h1>{t("document.title")}</h1>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      {document && (
        <dl className="card">
          <dt>{t("document.filename")}</dt>
          <dd data-testid="document-filename">{detail.filename}</dd>
          <dt>{t("document.collection")}</dt>
          <dd>{detail.collection}</dd>
          <dt>{t("document.status")}</dt>
          <dd>{t(`documents.${document.status}`, { defaultValue: document.status })}</dd>
          {section && (
            <>
              <dt>{t("document.section")}</dt>
              <dd data-testid="document-section">{section}</dd>
            </>
          )}
        </dl>
      )}
      <Link href="/documents">{t("document.back")}</Link>
    </main>
  );
}
