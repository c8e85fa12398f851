import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api } from "../api/client";

/** Password, deactivation and deletion; each ends the session where the API says so. */
export function Account({ api, onEnded }: { api: Api; onEnded: () => void }) {
  const { t } = useTranslation();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  async function changePassword(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const { error } = await api.POST("/v1/me/password", {
      body: { current_password: current, new_password: next },
    });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    window.alert(t("account.changed"));
    onEnded();
  }

  async function deactivate() {
    if (!window.confirm(t("account.confirmDeactivate"))) return;
    const { error } = await api.POST("/v1/me/deactivate");
    if (error) return setProblem(detailOf(error, t("login.failed")));
    onEnded();
  }

  async function remove(event: FormEvent) {
    event.preventDefault();
    const { error } = await api.DELETE("/v1/me", { body: { password: confirm } });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    onEnded();
  }

  return (
    <main className="page">
      <h1>{t("account.title")}</h1>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      <form className="card" onSubmit={changePassword} aria-labelledby="password-title">
        <h2 id="password-title">{t("account.password")}</h2>
        <label>
          {t("account.current")}
          <input
            type="password"
            required
            autoComplete="current-password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </label>
        <label>
          {t("account.new")}
          <input
            type="password"
            required
            minLength={10}
            autoComplete="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
          />
        </label>
        <button type="submit">{t("account.change")}</button>
      </form>
      <section className="card" aria-labelledby="deactivate-title">
        <h2 id="deactivate-title">{t("account.deactivate")}</h2>
        <p className="hint">{t("account.deactivateHint")}</p>
        <button type="button" className="danger" onClick={() => void deactivate()}>
          {t("account.deactivate")}
        </button>
      </section>
      <form className="card" onSubmit={remove} aria-labelledby="delete-title">
        <h2 id="delete-title">{t("account.delete")}</h2>
        <p className="hint">{t("account.deleteHint")}</p>
        <label>
          {t("account.confirm")}
          <input
            type="password"
            required
            autoComplete="current-password"
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
          />
        </label>
        <button type="submit" className="danger">
          {t("account.delete")}
        </button>
      </form>
    </main>
  );
}
