// One client for the JSON APIs of the providers the pool calls (a model's
// chat completions, Telnyx, AgentMail, an OpenClaw gateway): base URL, bearer
// token, JSON in and out, one deadline per call that a caller's signal can cut
// short, retries where they are safe, and one error type, HttpError, that
// carries the HTTP status and a Connect code. Its message names the provider
// and, for a refusal, the provider's own words; never the token (masked
// should a provider echo it) and never what the request sent.
//
// Retries follow what ky does (its default statuses, doubling waits,
// Retry-After honoured) with one rule of ours: a call is sent again only
// when that cannot do a thing twice. docs/server-kit.md, "Calling a
// provider", has the table.

import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * When a call may be sent again.
 * - `idempotent`: a second copy does nothing more (GET, HEAD, PUT, DELETE,
 *   OPTIONS, or a POST with an idempotency key the provider honours): again
 *   after no answer at all and after 408, 429, 500, 502, 503, 504.
 * - `refused`: again only when the provider says it did not take the call
 *   (429, 503); never after no answer or another failure, which may have
 *   done the work (a model's completion, billed).
 * - `never`: sent once (a POST that sends a text, a mail, buys a number).
 */
export type RetryPolicy = "idempotent" | "refused" | "never";

const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
/** ky's list, less 413: the same body would be too large again. */
const RETRIED_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
/** The provider did not take the call: rate-limited, or not serving. */
const REFUSED_STATUSES = new Set([429, 503]);
/** What a token the provider echoes becomes. */
const MASK = "[the API key]";

export interface HttpClientOptions {
  /** Who answers, as error messages name it: "AgentMail", "the SMS provider". */
  service: string;
  /** Paths are appended to it; a trailing slash is dropped. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`. A secret: masked in every error. */
  token?: string | undefined;
  /** A call's deadline, retries and their waits included; default 15 s. */
  timeoutMs?: number | undefined;
  /** Tries after the first, where the policy allows; default 2. */
  retries?: number | undefined;
  /** The wait before the first retry, doubled for each next one (with jitter); default 300 ms. */
  backoffMs?: number | undefined;
  /** The provider's own words for why it refused, read from an error answer's JSON. */
  reason?: ((body: unknown) => string | undefined) | undefined;
  fetch?: typeof fetch | undefined;
}

export interface HttpRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
  /** Appended to the base URL, e.g. `/v2/messages`. */
  path: string;
  query?: URLSearchParams | Record<string, string | number | undefined> | undefined;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string> | undefined;
  /** The caller's: aborting it ends the call (a deadline of its own becomes DEADLINE_EXCEEDED). */
  signal?: AbortSignal | undefined;
  /** This call's deadline instead of the client's. */
  timeoutMs?: number | undefined;
  /** Sent as `Idempotency-Key`: the call is then retried as an idempotent one. Only for a provider that honours it. */
  idempotencyKey?: string | undefined;
  /** Default: `idempotent` for GET, HEAD, PUT, DELETE, OPTIONS and with an idempotency key; else `never`. */
  retry?: RetryPolicy | undefined;
}

/** An answer, whatever its status: its JSON body (undefined when it had none, or, for an error, none that parses). */
export interface HttpAnswer<B = unknown> {
  status: number;
  headers: Headers;
  body: B;
}

/**
 * A call to a provider that failed. `status` is the HTTP status, absent when
 * no answer came (`unavailable`: unreachable; `deadline_exceeded`: not in
 * time; `canceled`: the caller gave up). `body` is the error answer's JSON
 * with the token masked; `retryAfterMs` what its Retry-After asked for.
 */
export class HttpError extends ConnectError {
  constructor(
    message: string,
    code: Code,
    readonly status: number | undefined,
    opts: { body?: unknown; reason?: string | undefined; retryAfterMs?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, code, undefined, undefined, opts.cause);
    this.body = opts.body;
    this.reason = opts.reason;
    this.retryAfterMs = opts.retryAfterMs;
  }
  readonly body: unknown;
  /** The provider's words for why it refused (HttpClientOptions.reason), masked. */
  readonly reason: string | undefined;
  readonly retryAfterMs: number | undefined;

  // ConnectError knows its own by name ("ConnectError", which an HttpError keeps, so that it is one):
  // an HttpError is only what its prototype says.
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === "object" && v !== null && Object.prototype.isPrototypeOf.call(HttpError.prototype, v);
  }
}

/** The Connect code of an HTTP status: Google's mapping, but every 5xx save 501 is `unavailable` (a provider's failure is one to wait out). */
export function codeOfStatus(status: number): Code {
  switch (status) {
    case 400:
    case 422:
      return Code.InvalidArgument;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
    case 410:
      return Code.NotFound;
    case 408:
      return Code.DeadlineExceeded;
    // A conflict; whether the thing already exists the status cannot tell.
    case 409:
      return Code.Aborted;
    case 412:
      return Code.FailedPrecondition;
    case 429:
      return Code.ResourceExhausted;
    case 499:
      return Code.Canceled;
    case 405:
    case 501:
      return Code.Unimplemented;
  }
  return status >= 500 && status < 600 ? Code.Unavailable : Code.Unknown;
}

/** A Retry-After header in milliseconds (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class HttpClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: HttpClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.fetch = opts.fetch ?? fetch;
  }

  /** The body of a 2xx answer; an HttpError for any other, or for none. */
  async call<B>(req: HttpRequest): Promise<B> {
    const answer = await this.send<B>(req);
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    throw this.refusal(answer);
  }

  /**
   * The answer, whatever its status, after the retries its policy allows; an
   * HttpError only when none came in time, the caller gave up, or a 2xx
   * answer is not JSON.
   */
  async send<B = unknown>(req: HttpRequest): Promise<HttpAnswer<B>> {
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs ?? 15_000;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
    const ends = Date.now() + timeoutMs;
    const policy =
      req.retry ?? (req.idempotencyKey !== undefined || IDEMPOTENT_METHODS.has(req.method) ? "idempotent" : "never");
    const retries = policy === "never" ? 0 : (this.opts.retries ?? 2);
    const init = this.init(req, signal);
    const url = this.url(req);

    for (let attempt = 0; ; attempt++) {
      let answer: HttpAnswer<B> | undefined;
      let failure: unknown;
      try {
        const res = await this.fetch(url, init);
        answer = this.parse<B>(res.status, res.headers, await res.text());
      } catch (err) {
        if (err instanceof HttpError) throw err;
        this.stopIfEnded(req.signal, deadline, timeoutMs, err);
        failure = err;
      }
      const wait = answer ? retryAfterMs(answer.headers.get("retry-after")) : undefined;
      const again =
        attempt < retries &&
        (answer
          ? (policy === "idempotent" ? RETRIED_STATUSES : REFUSED_STATUSES).has(answer.status)
          : policy === "idempotent");
      const delay = wait ?? this.backoff(attempt);
      // A wait that would end past the deadline is not begun: the caller hears now, with the Retry-After.
      if (!again || Date.now() + delay >= ends) {
        if (answer) return answer;
        throw new HttpError(`${this.opts.service} could not be reached`, Code.Unavailable, undefined, {
          cause: failure,
        });
      }
      try {
        await sleep(delay, undefined, { signal });
      } catch (err) {
        this.stopIfEnded(req.signal, deadline, timeoutMs, err);
        throw err;
      }
    }
  }

  /** The HttpError of an answer that is not a 2xx. */
  refusal(answer: HttpAnswer<unknown>): HttpError {
    const said = answer.body === undefined ? undefined : this.opts.reason?.(answer.body);
    const reason = said ? this.mask(said) : undefined;
    return new HttpError(
      `${this.opts.service} answered HTTP ${answer.status}${reason ? `: ${reason}` : ""}`,
      codeOfStatus(answer.status),
      answer.status,
      { body: answer.body, reason, retryAfterMs: retryAfterMs(answer.headers.get("retry-after")) },
    );
  }

  private url(req: HttpRequest): string {
    let params = req.query;
    if (!(params instanceof URLSearchParams)) {
      params = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) params.set(k, String(v));
    }
    const q = params.toString();
    return `${this.baseUrl}${req.path}${q ? `?${q}` : ""}`;
  }

  private init(req: HttpRequest, signal: AbortSignal): RequestInit {
    const json = req.body !== undefined;
    return {
      method: req.method,
      // A plain object: a fetch of the caller's (OpenClaw's) may add to it.
      headers: {
        accept: "application/json",
        ...(json ? { "content-type": "application/json" } : {}),
        ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
        ...(req.idempotencyKey !== undefined ? { "idempotency-key": req.idempotencyKey } : {}),
        ...req.headers,
      },
      ...(json ? { body: JSON.stringify(req.body) } : {}),
      signal,
    };
  }

  /** An error answer's text is masked before anything reads it; a 2xx's is the provider's data (a new key it made). */
  private parse<B>(status: number, headers: Headers, raw: string): HttpAnswer<B> {
    const ok = status >= 200 && status < 300;
    const text = ok ? raw : this.mask(raw);
    if (!text.trim()) return { status, headers, body: undefined as B };
    try {
      return { status, headers, body: JSON.parse(text) as B };
    } catch {
      if (!ok) return { status, headers, body: undefined as B };
      throw new HttpError(
        `${this.opts.service} answered HTTP ${status} with something that is not JSON`,
        Code.Unknown,
        status,
      );
    }
  }

  /** Throws the error of a call that ended: the caller's signal (cancelled, or its own deadline), or ours. */
  private stopIfEnded(caller: AbortSignal | undefined, deadline: AbortSignal, timeoutMs: number, cause: unknown) {
    const service = this.opts.service;
    if (caller?.aborted) {
      const timedOut = (caller.reason as { name?: unknown } | undefined)?.name === "TimeoutError";
      throw timedOut
        ? new HttpError(`${service} did not answer before the caller's deadline`, Code.DeadlineExceeded, undefined, {
            cause,
          })
        : new HttpError(`the call to ${service} was cancelled`, Code.Canceled, undefined, { cause });
    }
    if (deadline.aborted)
      throw new HttpError(`${service} did not answer within ${timeoutMs} ms`, Code.DeadlineExceeded, undefined, {
        cause,
      });
  }

  /** Doubling from backoffMs, each wait between half and all of it, so that many callers spread out. */
  private backoff(attempt: number): number {
    const full = (this.opts.backoffMs ?? 300) * 2 ** attempt;
    return Math.round(full / 2 + (Math.random() * full) / 2);
  }

  private mask(text: string): string {
    return this.opts.token ? text.replaceAll(this.opts.token, MASK) : text;
  }
}
