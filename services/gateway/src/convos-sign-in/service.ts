// Sign in with Convos, the RPC face (docs/signatures.md, "Sign in with
// Convos"): StartConvosSignIn draws a code and a secret for the page that
// asks; the sign-in inbox (inbox.ts) records who sent the code, and the
// name their join request gave; CollectConvosSignIn hands that inbox's
// session, with that name, to whoever holds the secret, once.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { failedPreconditionOn, invalidArgument, notFound } from "@convos-pool/kit/content";
import { checkSignInPlace, type Session, type SessionTokens } from "../sessions/service.js";
import { CODE_LENGTH, CODE_TTL_SECONDS, codeFrom, onCollect, readCode } from "./policy.js";
import { collectSignIn, insertSignIn, readSignIn } from "./sql.js";
import type { SignInInbox } from "./inbox.js";

/** What a gateway without a sign-in inbox answers. */
export const NO_SIGN_IN_INBOX = "this pool has no sign-in inbox (POOL_SIGN_IN_KEY is not set): sign in with a wallet";

export interface ConvosSignInDeps {
  em: EntityManager;
  tokens: SessionTokens;
  /** This gateway's public origins: a sign-in must be for one. */
  origins: () => readonly string[];
  /** Absent: Sign in with Convos answers UNAVAILABLE. */
  inbox: SignInInbox | undefined;
  now?: () => Date;
}

export interface Started {
  code: string;
  secret: string;
  signInInboxId: string;
  inviteUrl: string;
  expiresAt: Date;
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest();
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export async function startConvosSignIn(
  deps: ConvosSignInDeps,
  req: { origin: string; requestOrigin?: string | null | undefined },
): Promise<Started> {
  if (!deps.inbox) throw new ConnectError(NO_SIGN_IN_INBOX, Code.Unavailable);
  // The page's origin, as a signed sign-in's: the URI is the origin itself.
  checkSignInPlace(deps.origins(), { origin: req.origin, uri: req.origin }, req.requestOrigin);
  const now = deps.now?.() ?? new Date();
  const expiresAt = new Date(now.getTime() + CODE_TTL_SECONDS * 1000);
  const secret = randomBytes(32).toString("base64url");
  // 50 random bits: a collision with a live code is rare; draw again when it happens.
  for (let attempt = 0; attempt < 5; attempt++) {
    const code = codeFrom(randomBytes(CODE_LENGTH));
    if (await insertSignIn(deps.em, { code, secretSha256: sha256(secret), origin: req.origin, expiresAt })) {
      const inviteUrl = await deps.inbox.inviteFor(code, req.origin, expiresAt);
      return { code, secret, signInInboxId: deps.inbox.inboxId, inviteUrl, expiresAt };
    }
  }
  throw new ConnectError("no free sign-in code; try again", Code.Unavailable);
}

/** A session collected, with the name its sender's join request gave ("" for none). */
export type Collected = { waiting: true } | { waiting: false; session: Session; name: string };

/**
 * The session of whoever sent the code, for the holder of its secret. An
 * unknown code and a wrong secret get the same answer, so that a code seen
 * over a shoulder tells nothing more.
 */
export async function collectConvosSignIn(
  deps: ConvosSignInDeps,
  req: { code: string; secret: string },
): Promise<Collected> {
  const code = readCode(req.code);
  if (!code) throw invalidArgument("code", `must be a sign-in code: ${CODE_LENGTH} letters and digits`);
  if (!SECRET_SHAPE.test(req.secret)) {
    throw invalidArgument("secret", "must be the secret StartConvosSignIn returned (43 base64url characters)");
  }
  const row = await readSignIn(deps.em, code);
  const given = sha256(req.secret);
  if (!row || !timingSafeEqual(given, row.secretSha256)) throw notFound("code: a sign-in with this code and secret");
  const now = deps.now?.() ?? new Date();
  const next = onCollect(row, now);
  switch (next.kind) {
    case "waiting":
      return { waiting: true };
    case "used":
      throw failedPreconditionOn("code", "already used: a code gives one session; start again");
    case "expired":
      throw failedPreconditionOn("code", `expired at ${next.at.toISOString()}; start again`);
    case "issue":
      if (!(await collectSignIn(deps.em, code, next.inboxId, now))) {
        throw failedPreconditionOn("code", "already used: a code gives one session; start again");
      }
      return { waiting: false, session: deps.tokens.issue(next.inboxId), name: row.senderName };
  }
}
