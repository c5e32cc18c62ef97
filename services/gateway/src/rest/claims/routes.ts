// The claim's REST paths (docs/rest.md, "Claims and \"My agents\""): the
// claim (and clone), its progress and its cancel, by the claim's
// idempotency key. Each is a ClaimService RPC of the forwarder, as on the
// Connect face; 503 when the gateway has no claims service.

import { inheritanceToJson } from "../agents/json.js";
import { renaming, type RestErrorMapping } from "../core/errors.js";
import { forwarderOf, query, type Handler, type Route } from "../core/request.js";
import { CLAIM_ERRORS, CLAIM_FIELDS, claimFromBody, claimProgressToJson, claimStageName } from "./json.js";

const claim: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const header = r.headers["idempotency-key"];
  const request = claimFromBody(await r.body(CLAIM_FIELDS), Array.isArray(header) ? header[0] : header);
  const res = await claims.claim(request, r.call);
  return {
    status: 200,
    body: {
      instance_id: res.instanceId,
      ...(res.inheritance ? { inheritance: inheritanceToJson(res.inheritance) } : {}),
    },
  };
};

/** The caller's claim sent with this `Idempotency-Key`, as it stands; their session only (anyone else: 404). */
const claimProgress: Handler = async (r, deps) => {
  query(r, []);
  const res = await forwarderOf(deps, "claims").getClaimProgress({ idempotencyKey: r.id }, r.call);
  return { status: 200, body: claimProgressToJson(res) };
};

/** Cancels the caller's running claim with this key: it stops and rolls back, its POST answers 409 `cancelled`. */
const cancelClaim: Handler = async (r, deps) => {
  query(r, []);
  const res = await forwarderOf(deps, "claims").cancelClaim({ idempotencyKey: r.id }, r.call);
  return { status: 200, body: { stage: claimStageName(res.stage) } };
};

/** The claim paths' `{id}` is the claim's idempotency key. */
const CLAIM_KEY_ERRORS: RestErrorMapping = { field: renaming({ idempotency_key: "id" }) };

export const CLAIM_ROUTES: Route[] = [
  ["POST", "/claim", claim, CLAIM_ERRORS],
  ["GET", "/claims/:id", claimProgress, CLAIM_KEY_ERRORS],
  ["DELETE", "/claims/:id", cancelClaim, CLAIM_KEY_ERRORS],
];
