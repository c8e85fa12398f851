import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api, type Schemas } from "../api/client";

/** The person's own provider keys: set, replaced, deleted; shown only masked. */
export function ProviderKeys({ api }: { api: Api }) {
  const { t } = useTranslation();
  const [keys, setKeys] = useState<Schemas["CredentialOut"][]>([]);
  const [provider, setProvider] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  const load = useCallback(async () => {
    const { data } = await api.GET("/v1/credentials");
    setKeys((data ?? []).filter((key) => key.provider !== "notion"));
  }, [api]);
  useEffect(() => void load(), [load]);

  async function save(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const { error } = await api.PUT("/v1/credentials/{provider}", {
      params: { path: { provider } },
      body: { api_key: apiKey, base_url: baseUrl || null },
    });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    setApiKey("");
    setBaseUrl("");
    void load();
  }

  async function remove(name: string) {
    const { error } = await api.DELETE("/v1/credentials/{provider}", {
      params: { path: { provider: name } },
    });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    void load();
  }

  return (
    <section className="card" aria-labelledby="provider-keys-title">
      <h2 id="provider-keys-title">{t("settings.credentials")}</h2>
      <p className="hint">{t("settings.credentialsIntro")}</p>
      <form onSubmit={save}>
        <label>
          {t("settings.provider")}
          <input
            required
            maxLength={100}
            value={provider}
            onChange={(e) => setProvider(e.target.value)}
            placeholder="openai"
          />
        </label>
        <label>
          {t("settings.apiKey")}
          <input
            type="password"
            required
            autoComplete="off"
            value={apiKey}
            onChange={(e) => setApiKey(e.target.value)}
          />
        </label>
        <label>
          {t("settings.baseUrl")}
          <input type="url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} />
        </label>
        <button type="submit">{t("settings.setKey")}</button>
      </form>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      {keys.length === 0 ? (
        <p className="empty">{t("settings.noKeys")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("settings.provider")}</th>
              <th scope="col">{t("settings.key")}</th>
              <th scope="col">{t("settings.baseUrl")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("settings.remove")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.provider}>
                <td>{key.provider}</td>
                <td>
                  <code>{key.masked}</code>
                </td>
                <td>{key.base_url}</td>
                <td>
                  <button
                    type="button"
                    className="danger"
                    aria-label={`${t("settings.remove")} ${key.provider}`}
                    onClick={() => void remove(key.provider)}
                  >
                    {t("settings.remove")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
