import { lazy, Suspense, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Route, Switch } from "wouter";

import { apiClient } from "./api/client";
import { Session } from "./api/session";
import { choose, LANGUAGES, type Language } from "./i18n";
import { Account } from "./pages/Account";
import { Admin } from "./pages/Admin";
import { Chat } from "./pages/Chat";
import { Documents } from "./pages/Documents";
import { DocumentView } from "./pages/DocumentView";
import { Keys } from "./pages/Keys";
import { Login } from "./pages/Login";
import { Search } from "./pages/Search";
import { Settings } from "./pages/Settings";

// Its charts are a library of their own: loaded when the page is first opened.
const Usage = lazy(() => import("./pages/Usage"));

type State = "starting" | "out" | "in";

/** Logged in (a refresh at start finds out, so a reload keeps the session) or not. Logging in
 * keeps the address, so a person sent to log in comes back where they were. */
export function App() {
  const { t, i18n } = useTranslation();
  const [state, setState] = useState<State>("starting");
  const session = useMemo(
    () =>
      new Session(
        window.location.origin,
        (request) => fetch(request),
        () => setState("out"),
      ),
    [],
  );
  const api = useMemo(() => apiClient(session), [session]);
  const [admin, setAdmin] = useState(false);

  useEffect(() => {
    void session.refresh().then((found) => setState(found ? "in" : "out"));
  }, [session]);
  useEffect(() => {
    if (state === "in")
      void api.GET("/v1/me").then(({ data }) => setAdmin(data?.is_admin ?? false));
  }, [api, state]);

  async function logOut() {
    await session.end();
    setState("out");
  }

  return (
    <>
      <header>
        <span className="brand">{t("app.title")}</span>
        {state === "in" && (
          <nav aria-label={t("nav.main")} className="main-nav">
            <Link href="/">{t("nav.chat")}</Link>
            <Link href="/documents">{t("nav.documents")}</Link>
            <Link href="/search">{t("nav.search")}</Link>
            <Link href="/usage">{t("nav.usage")}</Link>
            <Link href="/keys">{t("nav.keys")}</Link>
            <Link href="/settings">{t("nav.settings")}</Link>
            <Link href="/account">{t("nav.account")}</Link>
            {admin && <Link href="/admin">{t("nav.admin")}</Link>}
          </nav>
        )}
        <label>
          <span className="visually-hidden">{t("app.language")}</span>
          <select
            value={i18n.language}
            onChange={(e) => choose(e.target.value as Language)}
            aria-label={t("app.language")}
          >
            {Object.entries(LANGUAGES).map(([code, name]) => (
              <option key={code} value={code}>
                {name}
              </option>
            ))}
          </select>
        </label>
        {state === "in" && (
          <button type="button" onClick={() => void logOut()}>
            {t("app.logout")}
          </button>
        )}
      </header>
      {state === "out" && (
        <Login
          api={api}
          onLoggedIn={(token) => {
            session.begin(token);
            setState("in");
          }}
        />
      )}
      {state === "in" && (
        <Switch>
          <Route path="/documents/:id">
            {(params) => <DocumentView api={api} documentId={params.id} />}
          </Route>
          <Route path="/search">
            <Search api={api} />
          </Route>
          <Route path="/documents">
            <Documents api={api} session={session} />
          </Route>
          <Route path="/usage">
            <Suspense fallback={<p className="page">…</p>}>
              <Usage api={api} session={session} />
            </Suspense>
          </Route>
          <Route path="/account">
            <Account api={api} onEnded={() => void logOut()} />
          </Route>
          <Route path="/admin">{admin && <Admin api={api} />}</Route>
          <Route path="/settings">
            <Settings api={api} />
          </Route>
          <Route path="/keys">
            <Keys api={api} />
          </Route>
          <Route>
            <Chat api={api} session={session} />
          </Route>
        </Switch>
      )}
    </>
  );
}
