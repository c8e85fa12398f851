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
  const error = detail.error as { message?: string } | null | undefined;
  const stage = status.stage ?? null;
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
