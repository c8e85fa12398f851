import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api } from "../api/client";
import type { Session } from "../api/session";

interface Props {
  api: Api;
  session: Session;
  conversationId: string;
  title: string | null;
  onChanged: () => void;
  onDeleted: () => void;
}

/** Rename, export (Markdown or JSON, as a download) and delete the open conversation. */
export function ConversationActions({
  api,
  session,
  conversationId,
  title,
  onChanged,
  onDeleted,
}: Props) {
  const { t } = useTranslation();
  const [renaming, setRenaming] = useState(false);
  const [newTitle, setNewTitle] = useState(title ?? "");
  const [problem, setProblem] = useState<string | null>(null);
  const path = { params: { path: { conversation_id: conversationId } } };

  async function rename(event: FormEvent) {
    event.preventDefault();
    const { error } = await api.PATCH("/v1/conversations/{conversation_id}", {
      ...path,
      body: { title: newTitle },
    });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    setRenaming(false);
    onChanged();
  }

  async function remove() {
    if (!window.confirm(t("conversation.confirmDelete"))) return;
    const { error } = await api.DELETE("/v1/conversations/{conversation_id}", path);
    if (error) return setProblem(detailOf(error, t("login.failed")));
    onDeleted();
  }

  async function download(format: "markdown" | "json") {
    const url = new URL(`/v1/conversations/${conversationId}/export`, window.location.origin);
    url.searchParams.set("format", format);
    const response = await session.fetch(new Request(url));
    if (!response.ok) return setProblem(detailOf(await response.json(), t("login.failed")));
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = `conversation-${conversationId}.${format === "markdown" ? "md" : "json"}`;
    link.click();
    URL.revokeObjectURL(link.href);
  }

  return (
    <div className="conversation-actions">
      {renaming ? (
        <form onSubmit={rename}>
          <label>
            {t("conversation.newTitle")}
            <input
              required
              maxLength={200}
              value={newTitle}
              onChange={(e) => setNewTitle(e.target.value)}
            />
          </label>
          <button type="submit">{t("conversation.save")}</button>
          <button type="button" className="secondary" onClick={() => setRenaming(false)}>
            {t("conversation.cancel")}
          </button>
        </form>
      ) : (
        <button type="button" className="secondary" onClick={() => setRenaming(true)}>
          {t("conversation.rename")}
        </button>
      )}
      <span>{t("conversation.export")}:</span>
      <button type="button" className="secondary" onClick={() => void download("markdown")}>
        {t("conversation.exportMarkdown")}
      </button>
      <button type="button" className="secondary" onClick={() => void download("json")}>
        {t("conversation.exportJson")}
      </button>
      <button type="button" className="danger" onClick={() => void remove()}>
        {t("conversation.delete")}
      </button>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
    </div>
  );
}
