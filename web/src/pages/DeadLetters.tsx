import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api, type Schemas } from "../api/client";

const SERVICES = ["generation", "notion_sync", "ingestion", "analytics", "gateway"] as const;
type Letter = Schemas["DeadLetterOut"];
const key = (letter: Letter) => `${letter.partition}:${letter.offset}`;

/** Administrators: a service's dead letters, each with why and its bytes; chosen ones sent
 * to their original topic again. */
export function DeadLetters({ api }: { api: Api }) {
  const { t } = useTranslation();
  const [service, setService] = useState<(typeof SERVICES)[number]>("generation");
  const [letters, setLetters] = useState<Letter[] | null>(null);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [shown, setShown] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const load = useCallback(async () => {
    setLetters(null);
    const { data, error } = await api.GET("/v1/admin/dead-letters/{service}", {
      params: { path: { service } },
    });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    setLetters(data ?? []);
    setChosen(new Set());
  }, [api, service, t]);
  useEffect(() => void load(), [load]);

  async function redrive() {
    const records = (letters ?? [])
      .filter((letter) => chosen.has(key(letter)))
      .map(({ partition, offset }) => ({ partition, offset }));
    const { data, error } = await api.POST("/v1/admin/dead-letters/{service}/redrive", {
      params: { path: { service } },
      body: { records },
    });
    if (error || !data) return setProblem(detailOf(error, t("login.failed")));
    setStatus(t("deadLetters.redriven", { count: data.redriven }));
    void load();
  }

  const toggle = (letter: Letter, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(key(letter));
    else next.delete(key(letter));
    setChosen(next);
  };
  return (
    <section className="card" aria-labelledby="dead-letters-title">
      <h2 id="dead-letters-title">{t("deadLetters.title")}</h2>
      <div className="message-actions">
        <label>
          {t("deadLetters.service")}{" "}
          <select
            value={service}
            onChange={(e) => setService(e.target.value as (typeof SERVICES)[number])}
          >
            {SERVICES.map((name) => (
              <option key={name} value={name}>
                {t(`deadLetters.services.${name}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="secondary" onClick={() => void load()}>
          {t("deadLetters.refresh")}
        </button>
        <button type="button" disabled={chosen.size === 0} onClick={() => void redrive()}>
          {t("deadLetters.redrive", { count: chosen.size })}
        </button>
      </div>
      {status && <p role="status">{status}</p>}
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      {letters && letters.length === 0 && <p className="empty">{t("deadLetters.none")}</p>}
      {letters && letters.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">{t("deadLetters.choose")}</span>
              </th>
              <th scope="col">{t("deadLetters.topic")}</th>
              <th scope="col">{t("deadLetters.type")}</th>
              <th scope="col">{t("deadLetters.error")}</th>
              <th scope="col">{t("deadLetters.attempts")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("deadLetters.show")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {letters.map((letter) => (
              <tr key={key(letter)}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`${t("deadLetters.choose")} ${key(letter)}`}
                    checked={chosen.has(key(letter))}
                    onChange={(e) => toggle(letter, e.target.checked)}
                  />
                </td>
                <td>{`${letter.original_topic} (${letter.original_partition}:${letter.original_offset})`}</td>
                <td>{letter.event_type ?? "?"}</td>
                <td>{letter.error}</td>
                <td>{letter.attempt}</td>
                <td>
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`${t("deadLetters.show")} ${key(letter)}`}
                    onClick={() => setShown(shown === key(letter) ? null : key(letter))}
                  >
                    {t("deadLetters.show")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown && letters?.some((l) => key(l) === shown) && (
        <pre className="dead-letter" data-testid="dead-letter-value">
          {letters.find((l) => key(l) === shown)!.value}
        </pre>
      )}
    </section>
  );
}
