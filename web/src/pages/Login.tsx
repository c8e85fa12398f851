import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api } from "../api/client";

interface Props {
  api: Api;
  onLoggedIn: (accessToken: string) => void;
}

/** Log in, or create an account and log in with it. */
export function Login({ api, onLoggedIn }: Props) {
  const { t } = useTranslation();
  const [registering, setRegistering] = useState(false);
  const [login, setLogin] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      if (registering) {
        const { error } = await api.POST("/v1/auth/register", {
          body: { email, username: login, password },
        });
        if (error) return setProblem(detailOf(error, t("login.failed")));
      }
      const { data, error } = await api.POST("/v1/auth/login", { body: { login, password } });
      if (error || !data) return setProblem(detailOf(error, t("login.failed")));
      onLoggedIn(data.access_token);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">{registering ? t("login.registerTitle") : t("login.title")}</h1>
        {registering && (
          <label>
            {t("login.email")}
            <input
              type="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              autoComplete="email"
            />
          </label>
        )}
        <label>
          {registering ? t("login.username") : t("login.login")}
          <input
            required
            value={login}
            onChange={(e) => setLogin(e.target.value)}
            autoComplete="username"
          />
        </label>
        <label>
          {t("login.password")}
          <input
            type="password"
            required
            minLength={registering ? 10 : 1}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete={registering ? "new-password" : "current-password"}
          />
        </label>
        {problem && (
          <p role="alert" className="problem">
            {problem}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {registering ? t("login.register") : t("login.submit")}
        </button>
        <button type="button" className="link" onClick={() => setRegistering(!registering)}>
          {registering ? t("login.toLogin") : t("login.toRegister")}
        </button>
      </form>
    </main>
  );
}
