// The agent API over fetch: the signed-in user's token on every call, errors in one shape,
// and conditional GETs — each list or ticket read sends the ETag it last saw, and a 304 hands
// back what the console already holds, so a poll that finds nothing new moves no body.

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface Session {
  /** A current token (refreshed when needed). */
  token(): Promise<string>;
  signOut(): Promise<void>;
}

interface Cached { etag: string; body: unknown }

export class Api {
  private cache = new Map<string, Cached>();
  /** Requests sent, by whether the desk answered 304: the README's requests per hour. */
  readonly counts = { requests: 0, notModified: 0 };

  constructor(private base: string, private session: Session, private onUnauthorized: () => void) {}

  async get<T>(path: string): Promise<T> {
    const cached = this.cache.get(path);
    const headers: Record<string, string> = {};
    if (cached) headers["if-none-match"] = cached.etag;
    const response = await this.send("GET", path, undefined, headers);
    if (response.status === 304 && cached) {
      this.counts.notModified++;
      return cached.body as T;
    }
    const body = await this.body(response);
    const etag = response.headers.get("etag");
    if (etag) this.cache.set(path, { etag, body });
    return body as T;
  }

  async call<T>(method: string, path: string, input?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await this.send(method, path, input, headers);
    return (await this.body(response)) as T;
  }

  private async send(method: string, path: string, input: unknown, headers: Record<string, string>): Promise<Response> {
    this.counts.requests++;
    const all: Record<string, string> = { ...headers, authorization: `Bearer ${await this.session.token()}` };
    if (input !== undefined) all["content-type"] = "application/json";
    // no-store: the console keeps its own copies; the browser cache must not answer for the desk.
    return fetch(this.base + path, {
      method,
      headers: all,
      body: input === undefined ? undefined : JSON.stringify(input),
      cache: "no-store",
      credentials: "omit",
    });
  }

  private async body(response: Response): Promise<unknown> {
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      if (response.status === 401) this.onUnauthorized();
      throw new ApiError(response.status, error?.code ?? "error", error?.message ?? response.statusText);
    }
    return parsed;
  }
}
