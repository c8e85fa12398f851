import { useTranslation } from "react-i18next";

import type { Schemas } from "../api/client";

export type Chosen = Pick<Schemas["GenerationIn"], "temperature" | "max_tokens" | "system_prompt">;

/** The generation's parameters; unset ones are the model's defaults. */
export function Parameters({
  chosen,
  onChange,
}: {
  chosen: Chosen;
  onChange: (c: Chosen) => void;
}) {
  const { t } = useTranslation();
  const number = (value: string) => (value === "" ? undefined : Number(value));
  return (
    <details className="parameters">
      <summary>{t("parameters.title")}</summary>
      <label>
        {t("parameters.temperature")}
        <input
          type="number"
          min={0}
          max={2}
          step={0.1}
          value={chosen.temperature ?? ""}
          onChange={(e) => onChange({ ...chosen, temperature: number(e.target.value) })}
        />
      </label>
      <label>
        {t("parameters.maxTokens")}
        <input
          type="number"
          min={1}
          step={1}
          value={chosen.max_tokens ?? ""}
          onChange={(e) => onChange({ ...chosen, max_tokens: number(e.target.value) })}
        />
      </label>
      <label>
        {t("parameters.systemPrompt")}
        <textarea
          rows={2}
          value={chosen.system_prompt ?? ""}
          onChange={(e) => onChange({ ...chosen, system_prompt: e.target.value || undefined })}
        />
      </label>
    </details>
  );
}
