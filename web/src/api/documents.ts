/** A document's upload and its way to indexed, one file per request so that one refused file
 * never stops the others. */
import type { Schemas } from "./client";

export type Progress = {
  status: "sending" | "refused" | Schemas["DocumentStatus"]["status"];
  stage?: string | null;
  completed?: number;
  total?: number;
  error?: string;
};

const FINISHED = new Set(["succeeded", "failed", "refused"]);
export const finished = (progress: Progress) => FINISHED.has(progress.status);

export async function uploadOne(
  fetch: (request: Request) => Promise<Response>,
  file: File,
  collection: string,
): Promise<{ documentId: string } | { refused: string }> {
  const form = new FormData();
  form.append("files", file);
  form.append("collection", collection);
  const url = new URL("/v1/documents", window.location.origin);
  const response = await fetch(new Request(url, { method: "POST", body: form }));
  const body = await response.json();
  if (!response.ok) return { refused: body.detail ?? `HTTP ${response.status}` };
  return { documentId: (body as Schemas["Uploaded"]).documents[0].document_id };
}

/** What a document's status says of its progress. */
export function progressOf(status: Schemas["DocumentStatus"]): Progress {
  const detail = status.detail as Record<string, unknown>;
  const error = detail.error as { message?: string; stage?: string } | null | undefined;
  const stage = status.stage ?? error?.stage ?? null; // a failure says where in its error
  const counts = (stage ? detail[stage] : undefined) as
    { completed?: number; total?: number } | undefined;
  return {
    status: status.status,
    stage,
    completed: counts?.completed,
    total: counts?.total,
    error: error?.message,
  };
}

export const STAGES = ["parsing", "chunking", "embedding", "indexing"] as const;
export type StageState = "done" | "current" | "failed" | "pending";

/** Where each of a document's stages stands, given where its ingestion is now. */
export function stageStates(progress: Progress): StageState[] {
  if (progress.status === "succeeded") return STAGES.map(() => "done");
  const at = STAGES.indexOf(progress.stage as (typeof STAGES)[number]);
  const now: StageState = progress.status === "failed" ? "failed" : "current";
  const started = progress.status === "running" || progress.status === "failed";
  return STAGES.map((_, index) =>
    !started || at < 0 || index > at ? "pending" : index < at ? "done" : now,
  );
}
