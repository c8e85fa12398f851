/** A streamed generation: `POST /v1/generations` (`stream: true`), its server-sent events
 * read as they arrive. Aborting the signal closes the connection, which cancels the answer
 * upstream. */
import type { Schemas } from "./client";
import { serverEvents } from "./sse";

export type Streamed =
  | { kind: "start"; conversationId: string; requestId: string }
  | { kind: "delta"; text: string }
  | { kind: "done"; citations: Schemas["Citation"][] }
  | { kind: "error"; detail: string };

export async function* streamGeneration(
  fetch: (request: Request) => Promise<Response>,
  body: Schemas["GenerationIn"],
  signal: AbortSignal,
): AsyncGenerator<Streamed> {
  const response = await fetch(
    new Request(new URL("/v1/generations", window.location.origin), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
      signal,
    }),
  );
  if (!response.ok || !response.body) {
    const problem = await response.json().catch(() => ({}));
    yield { kind: "error", detail: problem.detail ?? `HTTP ${response.status}` };
    return;
  }
  for await (const { event, data } of serverEvents(response.body)) {
    const payload = JSON.parse(data);
    if (event === "start") {
      yield {
        kind: "start",
        conversationId: payload.conversation_id,
        requestId: payload.request_id,
      };
    } else if (event === "delta") {
      yield { kind: "delta", text: payload.text };
    } else if (event === "done") {
      yield { kind: "done", citations: payload.citations ?? [] };
    } else if (event === "error") {
      yield { kind: "error", detail: payload.detail ?? payload.title ?? "error" };
    }
  }
}
