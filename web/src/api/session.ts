/** The person's session: the access token in memory only, renewed through
 * `POST /v1/auth/refresh` with the refresh token the gateway keeps in an `HttpOnly` cookie
 * (no script can read it; see docs/decisions/0017-web-console.md). A request answered 401 is
 * sent again once after a refresh; concurrent refreshes share one call. */

type Fetch = (input: Request) => Promise<Response>;

export class Session {
  private accessToken: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private readonly origin: string;
  private readonly send: Fetch;
  private readonly onEnded: () => void;

  /** `origin` is the gateway's (the page's own); `onEnded` is told when a session stops
   * working (its refresh refused), not when there was none. */
  constructor(origin: string, send: Fetch, onEnded: () => void) {
    this.origin = origin;
    this.send = send;
    this.onEnded = onEnded;
  }

  get active(): boolean {
    return this.accessToken !== null;
  }

  begin(accessToken: string): void {
    this.accessToken = accessToken;
  }

  /** A new access token from the cookie's refresh token; false when there is no session. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.rotate().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async end(): Promise<void> {
    this.accessToken = null;
    await this.send(this.auth("logout"));
  }

  /** `request` with the access token, sent again once after a refresh if it was refused. */
  readonly fetch = async (request: Request): Promise<Response> => {
    const retry = request.clone();
    const response = await this.send(this.authorized(request));
    if (response.status !== 401 || !(await this.refresh())) return response;
    return this.send(this.authorized(retry));
  };

  private authorized(request: Request): Request {
    if (this.accessToken) request.headers.set("Authorization", `Bearer ${this.accessToken}`);
    return request;
  }

  /** A call with the refresh cookie and no body: the cookie names the token. */
  private auth(action: "refresh" | "logout"): Request {
    const url = new URL(`/v1/auth/${action}`, this.origin);
    return new Request(url, { method: "POST", credentials: "same-origin" });
  }

  private async rotate(): Promise<boolean> {
    const response = await this.send(this.auth("refresh"));
    if (!response.ok) {
      const had = this.accessToken !== null;
      this.accessToken = null;
      if (had) this.onEnded();
      return false;
    }
    this.accessToken = (await response.json()).access_token;
    return true;
  }
}
