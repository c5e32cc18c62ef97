// Service-to-service authentication (DESIGN.md section 2: internal calls carry
// a service credential; the gateway is the only public entry point).
//
// Every internal call carries the shared service credential in
// `x-pool-service-token`. The gateway authenticates end users itself and
// forwards the caller's XMTP inbox ID in `x-pool-caller`. That header is
// trusted ONLY because the service credential proved the call came from
// inside the pool: callerInboxId() returns it only when
// serviceAuthInterceptor has verified the credential on this very call, so a
// service that forgot the interceptor never trusts a forwarded identity.

import { createHash, timingSafeEqual } from "node:crypto";
import {
  Code,
  ConnectError,
  createContextKey,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";

export const SERVICE_TOKEN_HEADER = "x-pool-service-token";
export const CALLER_HEADER = "x-pool-caller";

const HEALTH_SERVICE = "grpc.health.v1.Health";

/** Set by serviceAuthInterceptor once the credential of the call checked out. */
const serviceAuthenticated = createContextKey<boolean>(false, { description: "pool service credential verified" });

// Hash both sides first: timingSafeEqual needs equal lengths, and hashing
// keeps the length of the expected token from leaking through timing.
function sameSecret(given: string, expected: Buffer): boolean {
  const digest = createHash("sha256").update(given, "utf8").digest();
  return timingSafeEqual(digest, expected);
}

/**
 * Server side: refuses calls without the right service credential with
 * Code.Unauthenticated. grpc.health.v1.Health stays open for probes.
 */
export function serviceAuthInterceptor(token: string): Interceptor {
  if (!token) throw new Error("serviceAuthInterceptor: empty service token");
  const expected = createHash("sha256").update(token, "utf8").digest();
  return (next) => async (req) => {
    if (req.service.typeName === HEALTH_SERVICE) return next(req);
    const given = req.header.get(SERVICE_TOKEN_HEADER);
    if (given === null || !sameSecret(given, expected)) {
      // Same answer for missing and wrong: no hint for a guesser.
      throw new ConnectError("missing or invalid service credential", Code.Unauthenticated);
    }
    req.contextValues.set(serviceAuthenticated, true);
    return next(req);
  };
}

/** Client side: adds the service credential to every call of a transport. */
export function serviceCredentialClientInterceptor(token: string): Interceptor {
  if (!token) throw new Error("serviceCredentialClientInterceptor: empty service token");
  return (next) => (req) => {
    req.header.set(SERVICE_TOKEN_HEADER, token);
    return next(req);
  };
}

/**
 * Call options headers that forward the end user's inbox ID (gateway to
 * internal services): `client.getThing(req, { headers: callerHeaders(inboxId) })`.
 */
export function callerHeaders(inboxId: string): Record<string, string> {
  return { [CALLER_HEADER]: inboxId };
}

/**
 * The XMTP inbox ID of the end user on whose behalf the gateway made this
 * call, or undefined when there is none or the service credential was not
 * verified on this call (see the top of this file).
 */
export function callerInboxId(ctx: HandlerContext): string | undefined {
  if (!ctx.values.get(serviceAuthenticated)) return undefined;
  const v = ctx.requestHeader.get(CALLER_HEADER);
  return v === null || v === "" ? undefined : v;
}

/** Whether serviceAuthInterceptor verified the service credential on this call. */
export function isServiceAuthenticated(ctx: HandlerContext): boolean {
  return ctx.values.get(serviceAuthenticated);
}
