import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api } from "../api/client";

const POLL_MS = 1000;
type Saving =
  | { state: "idle" | "saving" }
  | { state: "synced"; url: string }
  | { state: "failed"; reason: string };

/** Saves one answer as a Notion page (under the default parent) and follows the save. */
export function SaveToNotion({ api, requestId }: { api: Api; requestId: string }) {
  const { t } = useTranslation();
  const [saving, setSaving] = useState<Saving>({ state: "idle" });
  const live = useRef(true);
  useEffect(() => () => void (live.current = false), []);

  async function save() {
    setSaving({ state: "saving" });
    const { data, error } = await api.POST("/v1/generations/{request_id}/notion", {
      params: { path: { request_id: requestId } },
    });
    if (error || !data) return setSaving({ state: "failed", reason: detailOf(error, "") });
    while (live.current) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const status = await api.GET("/v1/requests/{request_id}", {
        params: { path: { request_id: data.request_id } },
      });
      const detail = (status.data?.detail ?? {}) as { url?: string; error?: { message?: string } };
      if (status.data?.status === "succeeded" && detail.url)
        return setSaving({ state: "synced", url: detail.url });
      if (status.data?.status === "failed")
        return setSaving({ state: "failed", reason: detail.error?.message ?? "" });
    }
  }

  if (saving.state === "synced") {
    return (
      <a className="notion-link" href={saving.url} target="_blank" rel="noopener noreferrer">
        {t("notion.open")}
      </a>
    );
  }
  return (
    <span className="notion-save" aria-live="polite">
      {saving.state === "failed" && (
        <span className="problem">{t("notion.failed", { reason: saving.reason })} </span>
      )}
      <button
        type="button"
        className="secondary"
        disabled={saving.state === "saving"}
        onClick={() => void save()}
      >
        {saving.state === "saving" ? t("notion.saving") : t("notion.save")}
      </button>
    </span>
  );
}
