// Requests to the gateway's REST paths (docs/rest.md): JSON in and out,
// If-Match for versions, and the session token for reads of private data,
// signed in for automatically when it is missing, expired or refused.
import type { SessionJson } from "@convos-pool/gateway/rest-json";
import { stat } from "node:fs/promises";
import { CliError, HttpError, NetworkError, unreachable } from "./errors.js";
import { clearSession, loadKey, readSession, sessionUsable, writeSession, type LoadedKey } from "./key-store.js";
import { signInJson, signSignIn } from "@convos-pool/kit/signing";
import { busyWords, Retrier } from "@convos-pool/kit/client";
import { poolIdOf } from "./signing.js";

export const DEFAULT_URL = "http://127.0.0.1:8080";

import { nowSeconds, pause, type Context } from "./context.js";

export type { Context };

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface RequestOptions {
  body?: unknown;
  /** The version the change is based on: sent as `If-Match: "N"`. */
  ifMatch?: number;
  /** "session": sign in if needed and send the token; "none": anonymous. */
  auth?: "none" | "session";
  /** This session token, as it is (signing out); no sign-in. */
  token?: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as `Idempotency-Key`: a retry with the same key gets the first request's outcome. */
  idempotencyKey?: string;
}

/** A page of a listing: `limit` and the `cursor` of the previous page's `next_cursor`. */
export interface Page {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export { NetworkError };

export function normalizeUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`not a URL: ${url}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new CliError(`not an http(s) URL: ${url}`);
  return u.toString().replace(/\/+$/, "");
}

function buildUrl(ctx: Context, path: string, query?: RequestOptions["query"]): string {
  const u = new URL(ctx.url + path);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== "") u.searchParams.set(k, String(v));
  }
  return u.toString();
}

/**
 * A refusal's Retry-After in milliseconds: a 429 or 503 says the gateway
 * did not take the request (docs/limits.md), so it may be sent again.
 */
export function retryAfterMs(status: number, header: string | null, nowMs: number): number | undefined {
  if ((status !== 429 && status !== 503) || !header) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Each context's retries (docs/cli.md, "When the pool is busy"): one budget for the command's requests, each wait said on stderr. */
const retriers = new WeakMap<Context, Retrier>();

function retrierOf(ctx: Context): Retrier {
  let retrier = retriers.get(ctx);
  if (!retrier) {
    retrier = new Retrier({
      now: ctx.now ?? Date.now,
      sleep: async (ms) => {
        await pause(ctx, ms);
      },
      onEvent: (e) => {
        if (e.kind === "waiting") ctx.progress?.(busyWords(e.waitMs));
      },
    });
    retriers.set(ctx, retrier);
  }
  return retrier;
}

/** One request, sent again after a refusal as the kit's client policy allows. */
function send(ctx: Context, method: string, path: string, opts: RequestOptions, token?: string): Promise<Reply> {
  return retrierOf(ctx).run(
    { procedure: `${method} ${path}` },
    () => sendOnce(ctx, method, path, opts, token),
    (err) => (err instanceof HttpError ? err.retryAfterMs : undefined),
  );
}

async function sendOnce(
  ctx: Context,
  method: string,
  path: string,
  opts: RequestOptions,
  token?: string,
): Promise<Reply> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.ifMatch !== undefined) headers["if-match"] = `"${opts.ifMatch}"`;
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  let res: Response;
  try {
    res = await (ctx.fetch ?? fetch)(buildUrl(ctx, path, opts.query), {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
  } catch (err) {
    throw unreachable(ctx.url, err);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new NetworkError(`the connection to ${ctx.url} broke before the answer came: ${(err as Error).message}`);
  }
  let body: unknown;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!res.ok) {
    const errorBody =
      body !== undefined
        ? body
        : { error: { type: `http_${res.status}`, message: text.trim() || res.statusText || `HTTP ${res.status}` } };
    throw new HttpError(
      res.status,
      errorBody,
      retryAfterMs(res.status, res.headers.get("retry-after"), (ctx.now ?? Date.now)()),
    );
  }
  if (body === undefined && text.length > 0) {
    throw new CliError(`${method} ${path}: the server answered ${res.status} with a body that is not JSON`);
  }
  return { status: res.status, headers: res.headers, body };
}

/** What `login` prints: never the token itself. */
export interface LoginResult {
  inbox_id: string;
  expires_at?: string;
}

function expiresAtString(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  // Seconds or milliseconds since the epoch, should a server send a number.
  if (typeof v === "number" && Number.isFinite(v)) return new Date(v < 1e12 ? v * 1000 : v).toISOString();
  return undefined;
}

/**
 * POST /api/pool/sessions with a signed Sign-In with Ethereum message, made
 * for the gateway this talks to (its URL's origin and the URL); stores the
 * token beside the key (0600).
 */
export async function login(ctx: Context, key?: LoadedKey): Promise<{ token: string; result: LoginResult }> {
  const k = key ?? (await loadKey(ctx.keyFile));
  const signIn = await signSignIn(k.account, k.inbox_id, ctx.url, nowSeconds(ctx), await poolIdOf(ctx));
  const reply = await send(ctx, "POST", "/api/pool/sessions", { body: signInJson(signIn) });
  const body = reply.body as Partial<SessionJson> | undefined;
  if (!body || typeof body.token !== "string" || body.token === "") {
    throw new CliError("login: the server's answer has no token");
  }
  const expires = expiresAtString(body.expires_at);
  await writeSession(ctx.keyFile, {
    url: ctx.url,
    inbox_id: k.inbox_id,
    token: body.token,
    ...(expires ? { expires_at: expires } : {}),
  });
  return { token: body.token, result: { inbox_id: k.inbox_id, ...(expires ? { expires_at: expires } : {}) } };
}

export { nowSeconds };

/** One REST call; with auth "session", a refused stored token is replaced by a fresh login once. */
export async function request(ctx: Context, method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  if (opts.auth !== "session") return send(ctx, method, path, opts, opts.token);
  const key = await loadKey(ctx.keyFile);
  const stored = await readSession(ctx.keyFile);
  if (sessionUsable(stored, ctx.url, key.inbox_id, (ctx.now ?? Date.now)())) {
    try {
      return await send(ctx, method, path, opts, stored.token);
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 401)) throw err;
      await clearSession(ctx.keyFile); // expired early or the server forgot it: sign in again
    }
  }
  const { token } = await login(ctx, key);
  return send(ctx, method, path, opts, token);
}

/** "session" when a key exists (a reader's own private things show), "none" (anonymous) otherwise. */
export async function sessionIfKey(ctx: Context): Promise<"session" | "none"> {
  try {
    await stat(ctx.keyFile);
    return "session";
  } catch {
    return "none";
  }
}

/** The version in an ETag: `"3"`, `W/"3"` or `3`. */
export function versionFromEtag(etag: string | null): number | undefined {
  if (!etag) return undefined;
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(etag.trim());
  return m ? Number(m[1]) : undefined;
}
