// Sessions: proof of identity for reads of private data (DESIGN.md section 4).
// A client signs the EIP-712 `CreateSession` message once and gets a bearer
// token for an hour. The token is the inbox ID and the expiry, authenticated
// with HMAC-SHA256 under the gateway's session secret:
//
//   v1.<inbox id>.<expiry, unix seconds>.<base64url HMAC of "v1.<inbox id>.<expiry>">
//
// Nothing about a session is stored: with a random secret per start (no
// POOL_SESSION_SECRET), every token dies with the process.

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  INBOX_ID_PATTERN,
  consumeNonce,
  invalidArgument,
  unauthenticated,
  type SignatureVerifier,
} from "@convos-pool/kit";

/** The `audience` every CreateSession signature must name. */
export const SESSION_AUDIENCE = "convos-agent-pool";
export const SESSION_TTL_SECONDS = 60 * 60;

const TOKEN_VERSION = "v1";
const TOKEN_SHAPE = /^v1\.([0-9a-f]{64})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$/;
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export interface Session {
  token: string;
  inboxId: string;
  expiresAt: Date;
}

/** Issues and checks session tokens. Never logs them. */
export class SessionTokens {
  private readonly key: Buffer;

  constructor(
    secret: string | undefined,
    private readonly ttlSeconds = SESSION_TTL_SECONDS,
    private readonly now: () => number = () => Date.now(),
  ) {
    if (secret !== undefined && secret.length === 0) throw new Error("session secret is empty");
    this.key = secret === undefined ? randomBytes(32) : Buffer.from(secret, "utf8");
  }

  issue(inboxId: string): Session {
    const exp = Math.floor(this.now() / 1000) + this.ttlSeconds;
    const body = `${TOKEN_VERSION}.${inboxId}.${exp}`;
    return { token: `${body}.${this.mac(body)}`, inboxId, expiresAt: new Date(exp * 1000) };
  }

  /** The inbox ID of a valid token; UNAUTHENTICATED for a malformed, tampered or expired one. */
  verify(token: string): string {
    const m = TOKEN_SHAPE.exec(token);
    if (!m) throw unauthenticated("authorization: not a session token of this pool; sign in again");
    const [, inboxId, exp, mac] = m as unknown as [string, string, string, string];
    const expected = Buffer.from(this.mac(`${TOKEN_VERSION}.${inboxId}.${exp}`), "utf8");
    const given = Buffer.from(mac, "utf8");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw unauthenticated("authorization: invalid session token; sign in again");
    }
    if (Number(exp) * 1000 <= this.now()) throw unauthenticated("authorization: session expired; sign in again");
    return inboxId;
  }

  /**
   * The caller behind an Authorization header value: undefined without one,
   * the inbox ID for a valid bearer token, UNAUTHENTICATED otherwise (a client
   * that sends a credential wants to know it no longer works).
   */
  callerOf(authorization: string | null | undefined): string | undefined {
    if (authorization === null || authorization === undefined || authorization === "") return undefined;
    const m = BEARER.exec(authorization);
    if (!m?.[1]) throw unauthenticated('authorization: expected "Bearer <session token>"');
    return this.verify(m[1]);
  }

  private mac(body: string): string {
    return createHmac("sha256", this.key).update(body, "utf8").digest("base64url");
  }
}

export interface SessionServiceDeps {
  tokens: SessionTokens;
  verifier: SignatureVerifier;
  em: EntityManager;
}

/** CreateSession: verify the signed login, spend its nonce, issue a token. */
export async function createSession(
  deps: SessionServiceDeps,
  inboxId: string,
  signature: Signature | undefined,
): Promise<Session> {
  if (!INBOX_ID_PATTERN.test(inboxId)) {
    throw invalidArgument("inbox_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
  }
  const verified = await deps.verifier.verify("CreateSession", { inboxId, audience: SESSION_AUDIENCE }, signature);
  const fresh = await deps.em
    .fork()
    .transactional((tx) => consumeNonce(tx, { nonce: verified.nonce, inboxId, purpose: "CreateSession" }));
  if (!fresh) throw unauthenticated("signature.nonce: already used; every signed request needs a fresh nonce");
  return deps.tokens.issue(inboxId);
}
