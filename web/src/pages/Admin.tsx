import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api, type Schemas } from "../api/client";
import { Catalogue } from "./Catalogue";
import { DeadLetters } from "./DeadLetters";

type Change = Schemas["UserChange"];
type Listed = Schemas["UserPage"]["items"][number];
const PLANS = ["solo", "team", "enterprise"] as const;

/** Administrators only: every user, with their plan tier, admin flag and activity. */
export function Admin({ api }: { api: Api }) {
  const { t } = useTranslation();
  const [users, setUsers] = useState<Listed[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const load = useCallback(
    async (after: string | null) => {
      const query = { limit: 100, ...(after ? { cursor: after } : {}) };
      const { data, error } = await api.GET("/v1/admin/users", { params: { query } });
      if (error) return setProblem(detailOf(error, t("login.failed")));
      setUsers((shown) => (after ? [...shown, ...(data?.items ?? [])] : (data?.items ?? [])));
      setCursor(data?.next_cursor ?? null);
    },
    [api, t],
  );
  useEffect(() => void load(null), [load]);

  async function change(user: Listed, body: Change) {
    setProblem(null);
    const { data, error } = await api.PATCH("/v1/admin/users/{user_id}", {
      params: { path: { user_id: user.id } },
      body,
    });
    if (error || !data) return setProblem(detailOf(error, t("login.failed")));
    const { plan_tier, is_admin, is_active } = data;
    setUsers((shown) =>
      shown.map((u) => (u.id === user.id ? { ...u, plan_tier, is_admin, is_active } : u)),
    );
    setSaved(user.username);
  }

  return (
    <main className="page">
      <h1>{t("admin.title")}</h1>
      <h2>{t("admin.users")}</h2>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      {saved && <p role="status">{`${t("admin.saved")}: ${saved}`}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">{t("admin.username")}</th>
            <th scope="col">{t("admin.email")}</th>
            <th scope="col">{t("admin.plan")}</th>
            <th scope="col">{t("admin.admin")}</th>
            <th scope="col">{t("admin.active")}</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id}>
              <td>{user.username}</td>
              <td>{user.email}</td>
              <td>
                <select
                  aria-label={`${t("admin.plan")} ${user.username}`}
                  value={user.plan_tier}
                  onChange={(e) =>
                    void change(user, { plan_tier: e.target.value as Change["plan_tier"] })
                  }
                >
                  {PLANS.map((plan) => (
                    <option key={plan} value={plan}>
                      {t(`admin.plans.${plan}`)}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <input
                  type="checkbox"
                  aria-label={`${t("admin.admin")} ${user.username}`}
                  checked={user.is_admin}
                  onChange={(e) => void change(user, { is_admin: e.target.checked })}
                />
              </td>
              <td>
                <input
                  type="checkbox"
                  aria-label={`${t("admin.active")} ${user.username}`}
                  checked={user.is_active}
                  onChange={(e) => void change(user, { is_active: e.target.checked })}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && (
        <button type="button" className="secondary" onClick={() => void load(cursor)}>
          {t("admin.more")}
        </button>
      )}
      <Catalogue api={api} />
      <DeadLetters api={api} />
    </main>
  );
}
