import { useTranslation } from "react-i18next";

import { STAGES, stageStates, type Progress } from "../api/documents";

/** A document's four stages as a list a person (and a screen reader) follows as they pass. */
export function StageTrack({ progress, filename }: { progress: Progress; filename: string }) {
  const { t } = useTranslation();
  const states = stageStates(progress);
  return (
    <ol className="stages" aria-label={t("documents.track", { filename })}>
      {STAGES.map((stage, index) => (
        <li
          key={stage}
          data-state={states[index]}
          aria-current={states[index] === "current" ? "step" : undefined}
        >
          {t(`documents.stages.${stage}`)}
          {states[index] === "current" && progress.total
            ? ` ${t("documents.progress", { completed: progress.completed, total: progress.total })}`
            : ""}
        </li>
      ))}
    </ol>
  );
}
