// Sessions: proof of identity for people (docs/security.md). A client signs
// a Sign-In with Ethereum message once (EIP-4361: the gateway's origin, the
// inbox, the pool), and gets a bearer token for an hour. The token is the inbox ID, the expiry and a session id, authenticated
// with HMAC-SHA256 under the gateway's session secret:
//
//   v2.<inbox id>.<expiry, unix seconds>.<session id>.<base64url HMAC of what precedes it>
//
// Nothing is stored about a live session; signing out records its id in the
// gateway's database until the token would have expired, and every gateway
// sharing that database refuses it from then on. With a random secret per
// start (no POOL_SESSION_SECRET), every token dies with the process.

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Migration } from "@mikro-orm/migrations";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { INBOX_ID_PATTERN, invalidArgument, nonceUsed, unauthenticated } from "@convos-pool/kit/content";
import type { RateLimit } from "@convos-pool/kit/server";
import type { SignatureVerifier, SignInPlace } from "@convos-pool/kit/signing";
import { consumeNonce, type MigrationEntry } from "@convos-pool/kit/service";

export const SESSION_TTL_SECONDS = 60 * 60;

const TOKEN_VERSION = "v2";
const TOKEN_SHAPE = /^v2\.([0-9a-f]{64})\.([0-9]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export interface Session {
  token: string;
  inboxId: string;
  /** Random, in the token: what signing out records. */
  id: string;
  expiresAt: Date;
}

/** Issues and checks session tokens (their MAC and expiry; revocation is SessionStore's). Never logs them. */
/** The least session secret: as long as HMAC-SHA256's output. */
export const MIN_SESSION_SECRET_BYTES = 32;

export class SessionTokens {
  private readonly key: Buffer;

  constructor(
    secret: string | undefined,
    private readonly ttlSeconds = SESSION_TTL_SECONDS,
    private readonly now: () => number = () => Date.now(),
  ) {
    // An HMAC key shorter than its hash's output can be guessed sooner than a token forged.
    if (secret !== undefined && Buffer.byteLength(secret) < MIN_SESSION_SECRET_BYTES) {
      throw new Error(`POOL_SESSION_SECRET must be at least ${MIN_SESSION_SECRET_BYTES} bytes`);
    }
    this.key = secret === undefined ? randomBytes(32) : Buffer.from(secret, "utf8");
  }

  issue(inboxId: string): Session {
    const exp = Math.floor(this.now() / 1000) + this.ttlSeconds;
    const id = randomBytes(16).toString("base64url");
    const body = `${TOKEN_VERSION}.${inboxId}.${exp}.${id}`;
    return { token: `${body}.${this.mac(body)}`, inboxId, id, expiresAt: new Date(exp * 1000) };
  }

  /** The session of a valid token; UNAUTHENTICATED for a malformed, tampered or expired one. */
  verify(token: string): Omit<Session, "token"> {
    const m = TOKEN_SHAPE.exec(token);
    if (!m) throw unauthenticated("authorization: not a session token of this pool; sign in again");
    const [, inboxId, exp, id, mac] = m as unknown as [string, string, string, string, string];
    const expected = Buffer.from(this.mac(`${TOKEN_VERSION}.${inboxId}.${exp}.${id}`), "utf8");
    const given = Buffer.from(mac, "utf8");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw unauthenticated("authorization: invalid session token; sign in again");
    }
    if (Number(exp) * 1000 <= this.now()) throw unauthenticated("authorization: session expired; sign in again");
    return { inboxId, id, expiresAt: new Date(Number(exp) * 1000) };
  }

  /**
   * The session behind an Authorization header value: undefined without one,
   * the session for a valid bearer token, UNAUTHENTICATED otherwise (a client
   * that sends a credential wants to know it no longer works).
   */
  sessionOf(authorization: string | null | undefined): Omit<Session, "token"> | undefined {
    if (authorization === null || authorization === undefined || authorization === "") return undefined;
    const m = BEARER.exec(authorization);
    if (!m?.[1]) throw unauthenticated('authorization: expected "Bearer <session token>"');
    return this.verify(m[1]);
  }

  private mac(body: string): string {
    return createHmac("sha256", this.key).update(body, "utf8").digest("base64url");
  }
}

/** The gateway's table of sessions ended before their expiry. */
export class CreateEndedSessions extends Migration {
  override up(): void {
    this.addSql(`create table if not exists ended_sessions (
      session_id text primary key,
      inbox_id text not null,
      expires_at timestamptz not null
    )`);
    this.addSql(`create index if not exists ended_sessions_expires_at on ended_sessions (expires_at)`);
  }
}

export const endedSessionsMigration: MigrationEntry = {
  name: "gateway_0002_ended_sessions",
  class: CreateEndedSessions,
};

/**
 * Sessions as the gateway uses them: tokens, plus the ones ended by signing
 * out (one primary-key lookup per authenticated request, on the database
 * every gateway replica shares).
 */
export class Sessions {
  constructor(
    readonly tokens: SessionTokens,
    private readonly em: EntityManager,
  ) {}

  /** The signed-in caller's inbox: undefined without credentials, UNAUTHENTICATED for a bad or ended session. */
  async callerOf(authorization: string | null | undefined): Promise<string | undefined> {
    const s = this.tokens.sessionOf(authorization);
    if (!s) return undefined;
    const ended = await this.em.fork().execute<unknown[]>(`select 1 from ended_sessions where session_id = ?`, [s.id]);
    if (ended.length > 0) throw unauthenticated("authorization: session ended: signed out; sign in again");
    return s.inboxId;
  }

  /** Signs out: the presented session is refused from now on. UNAUTHENTICATED without one. */
  async end(authorization: string | null | undefined): Promise<void> {
    const s = this.tokens.sessionOf(authorization);
    if (!s) throw unauthenticated("authorization: sign out needs the session: send it as Bearer");
    await this.callerOf(authorization);
    await this.em
      .fork()
      .execute(
        `insert into ended_sessions (session_id, inbox_id, expires_at) values (?, ?, ?) on conflict (session_id) do nothing`,
        [s.id, s.inboxId, s.expiresAt],
        "run",
      );
  }

  /** Forgets ended sessions whose tokens have expired anyway. */
  async prune(): Promise<void> {
    await this.em.fork().execute(`delete from ended_sessions where expires_at < now()`, [], "run");
  }
}

/**
 * The origin of each of `urls` (scheme://host[:port], as a browser's Origin
 * header and `new URL(u).origin` write it). Throws naming a URL that is not
 * http(s).
 */
export function originsOf(urls: readonly string[]): string[] {
  return [
    ...new Set(
      urls.map((raw) => {
        let u: URL;
        try {
          u = new URL(raw);
        } catch {
          throw new Error(`"${raw}" is not a URL`);
        }
        if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`"${raw}" is not an http(s) URL`);
        return u.origin;
      }),
    ),
  ];
}

/**
 * Whether a sign-in was made for this gateway (pure; docs/security.md,
 * "Sign-ins from look-alike sites"). What counts is the signed `origin`: it
 * must be one of `mine`, written as an origin is; `uri` must be an http(s)
 * URL under it. The request's Origin header, which a browser sets and a
 * script elsewhere does not, must equal the signed origin when it is there:
 * a page on another origin cannot hand a sign-in it obtained to this gateway
 * through its visitor's browser. A missing or malformed field is
 * INVALID_ARGUMENT; a sign-in made for elsewhere UNAUTHENTICATED.
 */
export function checkSignInPlace(
  mine: readonly string[],
  place: SignInPlace,
  requestOrigin: string | null | undefined,
): void {
  const { origin, uri } = place;
  let asOrigin: string | undefined;
  try {
    asOrigin = new URL(origin).origin;
  } catch {
    asOrigin = undefined;
  }
  if (asOrigin === undefined || asOrigin === "null" || asOrigin !== origin) {
    throw invalidArgument("origin", "must be the origin the sign-in is made for: scheme://host[:port], nothing after");
  }
  if (!mine.includes(origin)) {
    throw unauthenticated(`origin: the sign-in was made for ${origin}, not for this pool's gateway; sign in here`);
  }
  let target: URL;
  try {
    target = new URL(uri);
  } catch {
    throw invalidArgument("uri", "must be the URL of the gateway the sign-in is made for");
  }
  if (target.origin !== origin) {
    throw unauthenticated(`uri: ${uri} is not under the signed origin ${origin}`);
  }
  if (requestOrigin && requestOrigin !== origin) {
    throw unauthenticated(`origin: the sign-in names ${origin} but was sent from ${requestOrigin}`);
  }
}

/** A sign-in as received: who, with which wallet, where for, the signature, and the request's Origin header (browsers). */
export interface SignInRequest extends SignInPlace {
  inboxId: string;
  address: string;
  signature: Signature | undefined;
  requestOrigin?: string | null | undefined;
}

export interface SessionServiceDeps {
  tokens: SessionTokens;
  /** This gateway's public origins (POOL_PUBLIC_URL): a sign-in must name one. */
  origins: () => readonly string[];
  verifier: SignatureVerifier;
  em: EntityManager;
  /** Sign-ins of one inbox (docs/limits.md); counted once the signature checked out. */
  perInbox: RateLimit;
}

/** CreateSession: check where it was made for, verify the signed sign-in, count it, spend its nonce, issue a token. */
export async function createSession(deps: SessionServiceDeps, req: SignInRequest): Promise<Session> {
  const { inboxId, origin, uri, address, signature } = req;
  if (!INBOX_ID_PATTERN.test(inboxId)) {
    throw invalidArgument("inbox_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
  }
  checkSignInPlace(deps.origins(), { origin, uri }, req.requestOrigin);
  const verified = await deps.verifier.verifySignIn({ inboxId, origin, uri, address, signature });
  // After the proof: a flood of bad signatures in someone's name does not lock them out.
  await deps.perInbox.take(inboxId, "this inbox");
  const fresh = await deps.em
    .fork()
    .transactional((tx) => consumeNonce(tx, { nonce: verified.nonce, inboxId, purpose: "CreateSession" }));
  if (!fresh) throw nonceUsed("signature.nonce");
  return deps.tokens.issue(inboxId);
}
