import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api, type Schemas } from "../api/client";
import { pieces } from "../highlight";
import { SourceLink } from "./SourceLink";

type Mode = "hybrid" | "vector" | "keyword";

/** Search in the three modes; each hit's matches marked, and a link to its document. */
export function Search({ api }: { api: Api }) {
  const { t, i18n } = useTranslation();
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<Mode>("hybrid");
  const [hits, setHits] = useState<Schemas["SearchHit"][] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  async function search(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const { data, error } = await api.GET("/v1/search", { params: { query: { q: query, mode } } });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    setHits(data?.hits ?? []);
  }

  const score = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 3 });
  return (
    <main className="page">
      <h1>{t("search.title")}</h1>
      <form className="card search-form" onSubmit={search}>
        <label>
          {t("search.query")}
          <input
            type="search"
            required
            maxLength={1000}
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </label>
        <label>
          {t("search.mode")}
          <select value={mode} onChange={(e) => setMode(e.target.value as Mode)}>
            <option value="hybrid">{t("search.hybrid")}</option>
            <option value="vector">{t("search.vector")}</option>
            <option value="keyword">{t("search.keyword")}</option>
          </select>
        </label>
        <button type="submit">{t("search.go")}</button>
      </form>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      {hits && hits.length === 0 && <p className="empty">{t("search.none")}</p>}
      {hits && hits.length > 0 && (
        <ol className="hits">
          {hits.map((hit) => (
            <li key={hit.chunk_id} className="card">
              <SourceLink source={hit} />{" "}
              <span className="hint">{t("search.score", { score: score.format(hit.score) })}</span>
              <p>
                {pieces(hit.highlight ?? hit.text).map((piece, i) =>
                  piece.match ? (
                    <mark key={i}>{piece.text}</mark>
                  ) : (
                    <span key={i}>{piece.text}</span>
                  ),
                )}
              </p>
            </li>
          ))}
        </ol>
      )}
    </main>
  );
}
