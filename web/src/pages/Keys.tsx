import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api, type Schemas } from "../api/client";

type Scope = Schemas["NewKey"]["scopes"] extends (infer S)[] | undefined ? S : never;
const SCOPES: Scope[] = ["generate", "documents", "search", "usage", "notion", "account"];

/** The person's API keys: made with a name, scopes and an expiry; shown once; revoked. */
export function Keys({ api }: { api: Api }) {
  const { t, i18n } = useTranslation();
  const [keys, setKeys] = useState<Schemas["Key"][]>([]);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const load = useCallback(async () => {
    const { data } = await api.GET("/v1/api-keys");
    if (data) setKeys(data);
  }, [api]);
  useEffect(() => void load(), [load]);

  async function create(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const expires_at = expires ? new Date(`${expires}T23:59:59`).toISOString() : null;
    const { data, error } = await api.POST("/v1/api-keys", { body: { name, scopes, expires_at } });
    if (error || !data) return setProblem(detailOf(error, t("login.failed")));
    setCreated(data.key);
    setCopied(false);
    setName("");
    setScopes([]);
    setExpires("");
    void load();
  }

  async function revoke(id: string) {
    const { error } = await api.DELETE("/v1/api-keys/{key_id}", {
      params: { path: { key_id: id } },
    });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    void load();
  }

  const date = (value: string | null, otherwise: string) =>
    value
      ? new Intl.DateTimeFormat(i18n.language, { dateStyle: "medium" }).format(new Date(value))
      : otherwise;

  return (
    <main className="page">
      <h1>{t("keys.title")}</h1>
      <p>{t("keys.intro")}</p>
      <form className="card" onSubmit={create}>
        <label>
          {t("keys.name")}
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <fieldset>
          <legend>{t("keys.scopes")}</legend>
          <p className="hint">{t("keys.allScopes")}</p>
          {SCOPES.map((scope) => (
            <label key={scope} className="inline">
              <input
                type="checkbox"
                checked={scopes.includes(scope)}
                onChange={(e) =>
                  setScopes(
                    e.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope),
                  )
                }
              />
              {scope}
            </label>
          ))}
        </fieldset>
        <label>
          {t("keys.expires")}
          <input type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </label>
        {problem && (
          <p role="alert" className="problem">
            {problem}
          </p>
        )}
        <button type="submit">{t("keys.create")}</button>
      </form>
      {created && (
        <div className="card created" role="status">
          <p>{t("keys.created")}</p>
          <code data-testid="new-key">{created}</code>
          <button
            type="button"
            onClick={() => void navigator.clipboard.writeText(created).then(() => setCopied(true))}
          >
            {copied ? t("keys.copied") : t("keys.copy")}
          </button>
        </div>
      )}
      {keys.length === 0 ? (
        <p className="empty">{t("keys.none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("keys.name")}</th>
              <th scope="col">{t("keys.prefix")}</th>
              <th scope="col">{t("keys.scopes")}</th>
              <th scope="col">{t("keys.createdAt")}</th>
              <th scope="col">{t("keys.lastUsed")}</th>
              <th scope="col">{t("keys.expiresAt")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("keys.revoke")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td>
                  {key.scopes.length ? key.scopes.join(", ") : t("keys.allScopes").split(" (")[0]}
                </td>
                <td>{date(key.created_at, "")}</td>
                <td>{date(key.last_used_at, t("keys.never"))}</td>
                <td>{date(key.expires_at, t("keys.noExpiry"))}</td>
                <td>
                  {key.revoked_at ? (
                    t("keys.revoked")
                  ) : (
                    <button
                      type="button"
                      onClick={() => void revoke(key.id)}
                      aria-label={`${t("keys.revoke")} ${key.name}`}
                    >
                      {t("keys.revoke")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
