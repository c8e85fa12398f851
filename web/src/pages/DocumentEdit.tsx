import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api, type Schemas } from "../api/client";

interface Props {
  api: Api;
  document: Schemas["DocumentSummary"];
  onSaved: (changed: Schemas["DocumentSummary"]) => void;
  onCancel: () => void;
}

/** A document's metadata (a JSON object) and its collection, changed without embedding it
 * again. */
export function DocumentEdit({ api, document, onSaved, onCancel }: Props) {
  const { t } = useTranslation();
  const [collection, setCollection] = useState(document.collection);
  const [metadata, setMetadata] = useState(JSON.stringify(document.metadata ?? {}, null, 2));
  const [problem, setProblem] = useState<string | null>(null);

  async function save(event: FormEvent) {
    event.preventDefault();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(metadata);
    } catch {
      return setProblem(t("documents.badMetadata"));
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      return setProblem(t("documents.badMetadata"));
    }
    const moved = collection !== document.collection ? { collection } : {};
    const { data, error } = await api.PATCH("/v1/documents/{document_id}", {
      params: { path: { document_id: document.document_id } },
      body: { metadata: parsed, ...moved },
    });
    if (error || !data) return setProblem(detailOf(error, t("login.failed")));
    onSaved(data);
  }

  return (
    <form
      className="card"
      onSubmit={save}
      aria-label={`${t("documents.edit")} ${document.filename}`}
    >
      <label>
        {t("documents.collection")}
        <input
          required
          pattern="[a-z0-9][a-z0-9_\-]{0,63}"
          value={collection}
          onChange={(e) => setCollection(e.target.value)}
        />
      </label>
      <label>
        {t("documents.metadata")}
        <textarea rows={4} value={metadata} onChange={(e) => setMetadata(e.target.value)} />
      </label>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      <div className="message-actions">
        <button type="submit">{t("conversation.save")}</button>
        <button type="button" className="secondary" onClick={onCancel}>
          {t("conversation.cancel")}
        </button>
      </div>
    </form>
  );
}
