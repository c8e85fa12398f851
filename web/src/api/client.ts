/** The typed API client: request and response shapes generated from docs/openapi.json. */
import createClient from "openapi-fetch";

import type { components, paths } from "./schema";
import { Session } from "./session";

export type Schemas = components["schemas"];

export function apiClient(session: Session) {
  return createClient<paths>({ baseUrl: window.location.origin, fetch: session.fetch });
}

export type Api = ReturnType<typeof apiClient>;

/** What a person is told when the API refuses: the problem's own `detail`. */
export function detailOf(error: unknown, fallback: string): string {
  if (error && typeof error === "object" && "detail" in error) {
    const detail = (error as { detail: unknown }).detail;
    if (typeof detail === "string" && detail) return detail;
  }
  if (error && typeof error === "object" && "error" in error) {
    const message = (error as { error: { message?: unknown } }).error?.message;
    if (typeof message === "string") return message;
  }
  return fallback;
}
