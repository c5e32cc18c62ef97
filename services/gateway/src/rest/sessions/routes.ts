// The REST paths of sessions (docs/rest.md, "Sessions"): the pool's signing
// domain, sign in with a signed Sign-In with Ethereum message, sign out with
// the token.

import { TEMPLATE_ERRORS } from "../core/errors.js";
import { query, type Handler, type Route } from "../core/request.js";
import { signatureOf } from "../core/signature-json.js";

/** POST /api/pool/sessions: the session token and when it ends (ISO 8601). */
export interface SessionJson {
  token: string;
  expires_at: string;
}

const createSession: Handler = async (r, deps) => {
  const body = await r.body(["inbox_id", "address", "origin", "uri", "signature"]);
  const signIn = {
    inboxId: body.string("inbox_id"),
    origin: body.string("origin"),
    uri: body.string("uri"),
    address: body.string("address"),
    signature: signatureOf(body),
  };
  const session = await deps.createSession(signIn, r.call);
  const answer: SessionJson = { token: session.token, expires_at: session.expiresAt.toISOString() };
  return { status: 200, body: answer };
};

/** Sign out: the session of the Authorization header is refused from now on (204). */
const endSession: Handler = async (r, deps) => {
  query(r, []);
  await deps.endSession(r.call.authorization);
  return { status: 204 };
};

/** The EIP-712 domain a client signs with for this pool (docs/signatures.md). */
const signingDomain: Handler = async (r, deps) => {
  query(r, []);
  const { poolId, name, version, salt } = deps.signingDomain;
  return { status: 200, body: { pool_id: poolId, name, version, salt } };
};

export const SESSION_ROUTES: Route[] = [
  ["GET", "/signing-domain", signingDomain, TEMPLATE_ERRORS],
  ["POST", "/sessions", createSession, TEMPLATE_ERRORS],
  ["DELETE", "/sessions", endSession, TEMPLATE_ERRORS],
];
