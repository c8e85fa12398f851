import { describe, expect, it } from "vitest";

import { Session } from "./session";

/** A gateway that accepts one access token and rotates through `refreshes` of them. */
function gateway(refreshes: number) {
  const state = { valid: "", issued: 0, refreshCalls: 0, seen: [] as string[] };
  const send = async (request: Request): Promise<Response> => {
    const path = new URL(request.url, "http://console").pathname;
    state.seen.push(`${request.method} ${path}`);
    if (path === "/v1/auth/refresh") {
      state.refreshCalls += 1;
      if (state.issued >= refreshes) return new Response(null, { status: 401 });
      state.valid = `token-${++state.issued}`;
      return Response.json({ access_token: state.valid });
    }
    const authorized = request.headers.get("Authorization") === `Bearer ${state.valid}`;
    return new Response(authorized ? "ok" : null, { status: authorized ? 200 : 401 });
  };
  return { state, send };
}

describe("Session", () => {
  it("refreshes once on a 401 and sends the request again with the new token", async () => {
    const { state, send } = gateway(1);
    const session = new Session("http://console", send, () => {});
    session.begin("expired");

    const response = await session.fetch(new Request("http://console/v1/me"));

    expect(response.status).toBe(200);
    expect(state.seen).toEqual(["GET /v1/me", "POST /v1/auth/refresh", "GET /v1/me"]);
  });

  it("shares one refresh among requests refused at once", async () => {
    const { state, send } = gateway(5);
    const session = new Session("http://console", send, () => {});
    session.begin("expired");

    const answers = await Promise.all(
      [1, 2, 3].map(() => session.fetch(new Request("http://console/v1/me"))),
    );

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(state.refreshCalls).toBe(1);
  });

  it("ends the session when the refresh is refused, and says so once", async () => {
    const { send } = gateway(0);
    let ended = 0;
    const session = new Session("http://console", send, () => (ended += 1));
    session.begin("expired");

    const response = await session.fetch(new Request("http://console/v1/me"));

    expect(response.status).toBe(401);
    expect(session.active).toBe(false);
    expect(ended).toBe(1);
  });

  it("finds no session at start without saying it ended", async () => {
    const { send } = gateway(0);
    let ended = 0;
    const session = new Session("http://console", send, () => (ended += 1));

    expect(await session.refresh()).toBe(false);
    expect(ended).toBe(0);
  });
});
