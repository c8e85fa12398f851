import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api, type Schemas } from "../api/client";
import { ProviderKeys } from "./ProviderKeys";

/** Notion: the integration token (never shown again), whether it works, and the default
 * parent pages are saved under; and the person's own provider keys. */
export function Settings({ api }: { api: Api }) {
  const { t } = useTranslation();
  const [connection, setConnection] = useState<Schemas["NotionConnectionResultPayload"] | null>(
    null,
  );
  const [token, setToken] = useState("");
  const [parent, setParent] = useState("");
  const [parentType, setParentType] = useState<"page" | "database">("page");
  const [saved, setSaved] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const check = useCallback(async () => {
    const { data } = await api.GET("/v1/notion/connection");
    setConnection(data ?? null);
    return data?.status;
  }, [api]);

  useEffect(() => {
    void check();
    void api.GET("/v1/me").then(({ data }) => {
      const config = (data?.settings?.notion_config ?? {}) as {
        default_parent_id?: string;
        default_parent_type?: "page" | "database";
      };
      setParent(config.default_parent_id ?? "");
      setParentType(config.default_parent_type ?? "page");
    });
  }, [api, check]);

  async function connect(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const { error } = await api.PUT("/v1/credentials/{provider}", {
      params: { path: { provider: "notion" } },
      body: { api_key: token },
    });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    setToken("");
    // The token reaches notion_sync through an event: asked at once, it may not be there yet.
    for (let tries = 0; tries < 15 && (await check()) === "not_connected"; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async function disconnect() {
    const { error } = await api.DELETE("/v1/notion/connection");
    if (error) return setProblem(detailOf(error, t("login.failed")));
    await check();
  }

  async function saveParent(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    const { error } = await api.PATCH("/v1/me", {
      body: {
        settings: {
          notion_config: { default_parent_id: parent || null, default_parent_type: parentType },
        },
      },
    });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    setSaved(true);
  }

  const status = !connection
    ? "…"
    : connection.status === "connected"
      ? t("settings.connected", { bot: connection.bot_name ?? "" })
      : connection.status === "not_connected"
        ? t("settings.notConnected")
        : t("settings.invalid", { reason: connection.reason ?? connection.status });
  return (
    <main className="page">
      <h1>{t("settings.title")}</h1>
      <section className="card" aria-labelledby="notion-title">
        <h2 id="notion-title">{t("settings.notion")}</h2>
        <p>
          {t("settings.status")}: <strong data-testid="notion-status">{status}</strong>
        </p>
        <form onSubmit={connect}>
          <label>
            {t("settings.token")}
            <input
              type="password"
              required
              autoComplete="off"
              value={token}
              onChange={(e) => setToken(e.target.value)}
            />
          </label>
          <p className="hint">{t("settings.tokenHint")}</p>
          <button type="submit">{t("settings.connect")}</button>
        </form>
        {connection?.status === "connected" && (
          <button type="button" className="danger" onClick={() => void disconnect()}>
            {t("settings.disconnect")}
          </button>
        )}
        <form onSubmit={saveParent}>
          <label>
            {t("settings.parent")}
            <input value={parent} maxLength={200} onChange={(e) => setParent(e.target.value)} />
          </label>
          <label>
            {t("settings.parentType")}
            <select
              value={parentType}
              onChange={(e) => setParentType(e.target.value as "page" | "database")}
            >
              <option value="page">{t("settings.page")}</option>
              <option value="database">{t("settings.database")}</option>
            </select>
          </label>
          <button type="submit">{t("settings.saveParent")}</button>
          {saved && <span role="status"> {t("settings.saved")}</span>}
        </form>
        {problem && (
          <p role="alert" className="problem">
            {problem}
          </p>
        )}
      </section>
      <ProviderKeys api={api} />
    </main>
  );
}
