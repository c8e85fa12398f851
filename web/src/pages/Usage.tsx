import { useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api, type Schemas } from "../api/client";
import type { Session } from "../api/session";
import { BarChart } from "./BarChart";

type Row = Schemas["UsageReportRow"];

/** This month against the budget, cost by day and by model, and the table as CSV. */
export default function Usage({ api, session }: { api: Api; session: Session }) {
  const { t, i18n } = useTranslation();
  const [summary, setSummary] = useState<Schemas["UsageSummary"] | null>(null);
  const [rows, setRows] = useState<Row[]>([]);
  const [problem, setProblem] = useState<string | null>(null);

  const load = useCallback(async () => {
    const [month, report] = await Promise.all([
      api.GET("/v1/usage/summary"),
      api.GET("/v1/usage", { params: { query: { group_by: "day,provider,model" } } }),
    ]);
    if (month.error || report.error) return setProblem(detailOf(month.error ?? report.error, ""));
    setSummary(month.data ?? null);
    setRows(typeof report.data === "object" ? report.data.rows : []);
  }, [api]);
  useEffect(() => void load(), [load]);

  const money = useMemo(
    () =>
      new Intl.NumberFormat(i18n.language, {
        style: "currency",
        currency: "USD",
        minimumFractionDigits: 2,
        maximumFractionDigits: 4,
      }),
    [i18n.language],
  );
  const format = useCallback((value: number) => money.format(value), [money]);
  const number = new Intl.NumberFormat(i18n.language);
  const day = new Intl.DateTimeFormat(i18n.language, { dateStyle: "medium", timeZone: "UTC" });
  const byDay = useMemo(() => totals(rows, (r) => r.day ?? ""), [rows]);
  const byModel = useMemo(() => totals(rows, (r) => `${r.provider}/${r.model}`), [rows]);

  async function download() {
    const url = new URL("/v1/usage", window.location.origin);
    url.searchParams.set("group_by", "day,provider,model");
    url.searchParams.set("format", "csv");
    const response = await session.fetch(new Request(url));
    if (!response.ok) return setProblem(detailOf(await response.json(), ""));
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = `usage-${summary?.period ?? "month"}.csv`;
    link.click();
    URL.revokeObjectURL(link.href);
  }

  const spent = Number(summary?.spent_usd ?? 0);
  const limit = summary?.hard_limit_usd ? Number(summary.hard_limit_usd) : null;
  return (
    <main className="page">
      <h1>{t("usage.title")}</h1>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      {summary && (
        <section className="card" aria-labelledby="month-title">
          <h2 id="month-title">{t("usage.month", { period: summary.period })}</h2>
          <p data-testid="spent">
            {limit === null
              ? t("usage.noLimit", { spent: money.format(spent) })
              : t("usage.ofBudget", { spent: money.format(spent), limit: money.format(limit) })}
          </p>
          {limit !== null && (
            <meter
              min={0}
              max={limit}
              value={Math.min(spent, limit)}
              aria-label={t("usage.budget")}
            />
          )}
          <p>
            {t("usage.tokens")}: {number.format(summary.tokens)} · {t("usage.requests")}:{" "}
            {number.format(summary.requests)}
          </p>
        </section>
      )}
      {rows.length === 0 ? (
        <p className="empty">{t("usage.none")}</p>
      ) : (
        <>
          <div className="charts">
            <BarChart
              label={t("usage.byDay")}
              labels={byDay.labels.map((d) => day.format(new Date(d)))}
              values={byDay.values}
              format={format}
            />
            <BarChart
              label={t("usage.byModel")}
              labels={byModel.labels}
              values={byModel.values}
              format={format}
            />
          </div>
          <section className="card" aria-labelledby="table-title">
            <h2 id="table-title">{t("usage.table")}</h2>
            <button type="button" className="secondary" onClick={() => void download()}>
              {t("usage.download")}
            </button>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("usage.day")}</th>
                  <th scope="col">{t("usage.model")}</th>
                  <th scope="col">{t("usage.requests")}</th>
                  <th scope="col">{t("usage.inputTokens")}</th>
                  <th scope="col">{t("usage.outputTokens")}</th>
                  <th scope="col">{t("usage.cost")}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.day}-${r.provider}-${r.model}`}>
                    <td>{r.day ? day.format(new Date(r.day)) : ""}</td>
                    <td>{`${r.provider}/${r.model}`}</td>
                    <td>{number.format(r.requests)}</td>
                    <td>{number.format(r.tokens.input_tokens)}</td>
                    <td>{number.format(r.tokens.output_tokens)}</td>
                    <td>{money.format(Number(r.cost_usd))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      )}
    </main>
  );
}

function totals(rows: Row[], key: (row: Row) => string): { labels: string[]; values: number[] } {
  const summed = new Map<string, number>();
  for (const row of rows) summed.set(key(row), (summed.get(key(row)) ?? 0) + Number(row.cost_usd));
  const labels = [...summed.keys()].sort();
  return { labels, values: labels.map((label) => summed.get(label) ?? 0) };
}
