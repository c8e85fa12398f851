import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api, type Schemas } from "../api/client";

type Model = Schemas["ModelInfo"];
const EMPTY = {
  provider: "",
  model: "",
  context_window: "128000",
  max_output_tokens: "4096",
  input_price: "",
  output_price: "",
};

/** Administrators: the model catalogue with its limits and prices (USD per million tokens);
 * a model added or changed here is offered to everyone. */
export function Catalogue({ api }: { api: Api }) {
  const { t, i18n } = useTranslation();
  const [models, setModels] = useState<Model[]>([]);
  const [draft, setDraft] = useState(EMPTY);
  const [problem, setProblem] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);

  const load = useCallback(async () => {
    const { data, error } = await api.GET("/v1/admin/catalog");
    if (error) return setProblem(detailOf(error, t("login.failed")));
    setModels(data?.models ?? []);
  }, [api, t]);
  useEffect(() => void load(), [load]);

  async function save(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setSaved(null);
    setSaving(true);
    const { error } = await api.PUT("/v1/admin/catalog/models/{provider}/{model}", {
      params: { path: { provider: draft.provider, model: draft.model } },
      body: {
        context_window: Number(draft.context_window),
        max_output_tokens: Number(draft.max_output_tokens),
        input_price: draft.input_price,
        output_price: draft.output_price,
        enabled: true,
      },
    });
    setSaving(false);
    if (error) return setProblem(detailOf(error, t("login.failed")));
    setSaved(`${draft.provider}/${draft.model}`);
    setDraft(EMPTY);
    void load();
  }

  const field = (name: keyof typeof EMPTY, label: string, type = "text") => (
    <label>
      {label}
      <input
        required
        type={type}
        min={type === "number" ? 0 : undefined}
        step={type === "number" ? "any" : undefined}
        value={draft[name]}
        onChange={(e) => setDraft({ ...draft, [name]: e.target.value })}
      />
    </label>
  );
  const money = new Intl.NumberFormat(i18n.language, { style: "currency", currency: "USD" });
  const number = new Intl.NumberFormat(i18n.language);
  return (
    <section className="card" aria-labelledby="catalogue-title">
      <h2 id="catalogue-title">{t("catalogue.title")}</h2>
      <form className="catalogue-form" onSubmit={save} aria-label={t("catalogue.change")}>
        {field("provider", t("catalogue.provider"))}
        {field("model", t("catalogue.model"))}
        {field("context_window", t("catalogue.context"), "number")}
        {field("max_output_tokens", t("catalogue.maxOutput"), "number")}
        {field("input_price", t("catalogue.input"), "number")}
        {field("output_price", t("catalogue.output"), "number")}
        <button type="submit" disabled={saving}>
          {saving ? t("catalogue.saving") : t("catalogue.save")}
        </button>
      </form>
      {saved && <p role="status">{`${t("catalogue.saved")}: ${saved}`}</p>}
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">{t("catalogue.model")}</th>
            <th scope="col">{t("catalogue.context")}</th>
            <th scope="col">{t("catalogue.input")}</th>
            <th scope="col">{t("catalogue.output")}</th>
            <th scope="col">
              <span className="visually-hidden">{t("catalogue.change")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr key={`${m.provider}/${m.model}`}>
              <td>{`${m.provider}/${m.model}`}</td>
              <td>{number.format(m.context_window)}</td>
              <td>{money.format(Number(m.input_price))}</td>
              <td>{money.format(Number(m.output_price))}</td>
              <td>
                <button
                  type="button"
                  className="secondary"
                  aria-label={`${t("catalogue.change")} ${m.provider}/${m.model}`}
                  onClick={() =>
                    setDraft({
                      provider: m.provider,
                      model: m.model,
                      context_window: String(m.context_window),
                      max_output_tokens: String(m.max_output_tokens),
                      input_price: String(m.input_price),
                      output_price: String(m.output_price),
                    })
                  }
                >
                  {t("catalogue.change")}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
