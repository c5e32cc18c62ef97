// The gateway's forwarded services (TemplateService, RolloutService,
// ClaimService, LineageService, ...): one generic forwarder built from a service descriptor and
// a gRPC client of the internal service. Every unary RPC of the descriptor is
// counted against its client address when it is limited (limits/addresses.ts), then
// goes upstream with the gateway's credential and, when the caller presented
// a valid session, the caller's inbox ID in x-pool-caller. Headers of the
// incoming request are never copied: a caller-supplied x-pool-caller (or
// service token) goes nowhere. The REST paths call the same forwarders, so a
// request is authorized and limited the same way whichever face it arrives on.

import type { DescMethod, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { CallOptions, Client, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import { AddressBookService } from "@convos-pool/gen/convos/pool/v1/address_book_service_pb.js";
import { ApprovalService } from "@convos-pool/gen/convos/pool/v1/approval_service_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { PatternInsightsService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import { VersionSignalInsightsService } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { RolloutService } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { TemplateRatingService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { StoreCurationService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { callerHeaders, limitExceededOf, peerAddress, type Logger } from "@convos-pool/kit/server";
import type { AddressLimits, ClientOf } from "../limits/addresses.js";
import type { Sessions } from "../sessions/service.js";

/** What a forwarded call needs from the incoming request. */
export interface CallInfo extends ClientOf {
  /** The Authorization header as received, if any. */
  authorization: string | null | undefined;
  /** The Origin header as received (browsers set it), if any: sign-ins check it (sessions/service.ts). */
  origin?: string | null | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/** Who the gateway lets through: sessions (with the ended ones), and the limits per client address. */
export interface Gate {
  sessions: Sessions;
  addresses: AddressLimits;
}

/** The local names of the unary methods of S (the only kind the gateway forwards). */
export type UnaryMethodName<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary ? K : never;
}[keyof S["method"]];

/** A forwarder: every unary method of S, taking the request and what it needs from the incoming call. */
export type Forwarder<S extends DescService> = {
  [K in UnaryMethodName<S>]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? (req: MessageInitShape<I>, call: CallInfo) => Promise<MessageShape<O>>
    : never;
};

export type TemplatesForwarder = Forwarder<typeof TemplateService>;
export type RolloutsForwarder = Forwarder<typeof RolloutService>;
export type ClaimsForwarder = Forwarder<typeof ClaimService>;
export type MemoryForwarder = Forwarder<typeof AgentMemoryService>;
export type AddressBookForwarder = Forwarder<typeof AddressBookService>;
export type ApprovalsForwarder = Forwarder<typeof ApprovalService>;
export type LineageForwarder = Forwarder<typeof LineageService>;
export type CurationForwarder = Forwarder<typeof StoreCurationService>;
export type RatingsForwarder = Forwarder<typeof TemplateRatingService>;
export type PatternInsightsForwarder = Forwarder<typeof PatternInsightsService>;
export type VersionSignalInsightsForwarder = Forwarder<typeof VersionSignalInsightsService>;

function isUnary(m: DescMethod): m is DescMethod & DescMethodUnary {
  return m.methodKind === "unary";
}

type AnyUnaryCall = (req: unknown, options?: CallOptions) => Promise<unknown>;
type AnyForward = (req: unknown, call: CallInfo) => Promise<unknown>;

/**
 * Forwards every unary method of `service` to `upstream`: resolves the caller
 * from the session token, calls upstream with only the caller header, relays
 * the outcome (see relayError). `name` names the service in the log and in
 * the UNAVAILABLE message ("claims service unavailable").
 */
export function createForwarder<S extends DescService>(
  service: S,
  upstream: Client<S>,
  gate: Gate,
  log: Logger,
  name: string,
): Forwarder<S> {
  const out: Record<string, AnyForward> = {};
  const client = upstream as unknown as Record<string, AnyUnaryCall>;
  for (const method of service.methods) {
    if (!isUnary(method)) continue;
    const call = client[method.localName];
    if (!call) throw new Error(`the ${name} client has no method ${method.localName}`);
    out[method.localName] = async (req, info) => {
      await gate.addresses.take(service.typeName, method.name, info);
      // Throws UNAUTHENTICATED for a header that is not a valid, unended session token.
      const caller = await gate.sessions.callerOf(info.authorization);
      try {
        return await call(req, {
          headers: caller === undefined ? {} : callerHeaders(caller),
          ...(info.signal ? { signal: info.signal } : {}),
          ...(info.timeoutMs !== undefined ? { timeoutMs: info.timeoutMs } : {}),
        });
      } catch (err) {
        throw relayError(err, log, name);
      }
    };
  }
  return out as unknown as Forwarder<S>;
}

/** The TemplateService forwarder (the REST template routes use it). */
export function createTemplatesForwarder(
  upstream: Client<typeof TemplateService>,
  gate: Gate,
  log: Logger,
): TemplatesForwarder {
  return createForwarder(TemplateService, upstream, gate, log, "templates service");
}

/** The RolloutService forwarder, to the templates service (the REST rollout routes use it; docs/rollouts.md). */
export function createRolloutsForwarder(
  upstream: Client<typeof RolloutService>,
  gate: Gate,
  log: Logger,
): RolloutsForwarder {
  return createForwarder(RolloutService, upstream, gate, log, "templates service");
}

/** The ClaimService forwarder (the REST claim and "My agents" routes use it). */
export function createClaimsForwarder(upstream: Client<typeof ClaimService>, gate: Gate, log: Logger): ClaimsForwarder {
  return createForwarder(ClaimService, upstream, gate, log, "claims service");
}

/** The AgentMemoryService forwarder, to the claims service (the REST memory routes use it). */
export function createMemoryForwarder(
  upstream: Client<typeof AgentMemoryService>,
  gate: Gate,
  log: Logger,
): MemoryForwarder {
  return createForwarder(AgentMemoryService, upstream, gate, log, "claims service");
}

/** The AddressBookService forwarder, to the claims service (the REST address-book routes use it). */
export function createAddressBookForwarder(
  upstream: Client<typeof AddressBookService>,
  gate: Gate,
  log: Logger,
): AddressBookForwarder {
  return createForwarder(AddressBookService, upstream, gate, log, "claims service");
}

/** The ApprovalService forwarder, to the claims service (the REST approvals routes use it). */
export function createApprovalsForwarder(
  upstream: Client<typeof ApprovalService>,
  gate: Gate,
  log: Logger,
): ApprovalsForwarder {
  return createForwarder(ApprovalService, upstream, gate, log, "claims service");
}

/** The StoreCurationService forwarder, to the templates service (the REST curation routes use it). */
export function createCurationForwarder(
  upstream: Client<typeof StoreCurationService>,
  gate: Gate,
  log: Logger,
): CurationForwarder {
  return createForwarder(StoreCurationService, upstream, gate, log, "templates service");
}

/** The TemplateRatingService forwarder, to the templates service (the REST rating routes use it). */
export function createRatingsForwarder(
  upstream: Client<typeof TemplateRatingService>,
  gate: Gate,
  log: Logger,
): RatingsForwarder {
  return createForwarder(TemplateRatingService, upstream, gate, log, "templates service");
}

/** The LineageService forwarder (the REST lineage and dashboard routes use it). */
export function createLineageForwarder(
  upstream: Client<typeof LineageService>,
  gate: Gate,
  log: Logger,
): LineageForwarder {
  return createForwarder(LineageService, upstream, gate, log, "lineage service");
}

/** The PatternInsightsService forwarder, to the lineage service (the REST pattern routes use it). */
export function createPatternInsightsForwarder(
  upstream: Client<typeof PatternInsightsService>,
  gate: Gate,
  log: Logger,
): PatternInsightsForwarder {
  return createForwarder(PatternInsightsService, upstream, gate, log, "lineage service");
}

/**
 * An error the internal service answered passes through as it is: code,
 * message and details (its FieldViolations, a LimitExceeded), but not its
 * response metadata, save the Retry-After a LimitExceeded asks for. An error
 * of the connection itself does not leak internal addresses.
 */
export function relayError(err: unknown, log: Logger, name = "upstream service"): ConnectError {
  const e = ConnectError.from(err);
  if (e.isWireError) {
    const retry = limitExceededOf(e)?.retryAfterSeconds ?? 0;
    const relayed = new ConnectError(e.rawMessage, e.code, retry > 0 ? { "retry-after": String(retry) } : undefined);
    relayed.details = e.details;
    return relayed;
  }
  if (e.code === Code.Canceled || e.code === Code.DeadlineExceeded) return new ConnectError(e.rawMessage, e.code);
  log.warn(`${name} call failed`, { err: e });
  return new ConnectError(`${name} unavailable`, Code.Unavailable);
}

/** What a forwarded call needs from a Connect / gRPC / gRPC-Web request. */
export const callInfo = (ctx: HandlerContext): CallInfo => ({
  authorization: ctx.requestHeader.get("authorization"),
  origin: ctx.requestHeader.get("origin"),
  peer: peerAddress(ctx),
  forwardedFor: ctx.requestHeader.get("x-forwarded-for") ?? undefined,
  signal: ctx.signal,
  timeoutMs: ctx.timeoutMs(),
});

/**
 * The Connect / gRPC / gRPC-Web face of a forwarder. Methods that are not
 * unary are left out: the router answers them UNIMPLEMENTED.
 */
export function forwardedServiceImpl<S extends DescService>(service: S, fwd: Forwarder<S>): Partial<ServiceImpl<S>> {
  const forwards = fwd as unknown as Record<string, AnyForward>;
  const impl: Record<string, (req: unknown, ctx: HandlerContext) => Promise<unknown>> = {};
  for (const method of service.methods) {
    const forward = forwards[method.localName];
    if (!isUnary(method) || !forward) continue;
    impl[method.localName] = (req, ctx) => forward(req, callInfo(ctx));
  }
  return impl as Partial<ServiceImpl<S>>;
}

/** Every method of `service` answers UNAVAILABLE with `message` (a service the gateway is not configured for). */
export function unavailableServiceImpl<S extends DescService>(service: S, message: string): Partial<ServiceImpl<S>> {
  const impl: Record<string, () => never> = {};
  for (const method of service.methods) {
    impl[method.localName] = () => {
      throw new ConnectError(message, Code.Unavailable);
    };
  }
  return impl as unknown as Partial<ServiceImpl<S>>;
}

/** The VersionSignalInsightsService forwarder, to the lineage service: a creator's read of each version's days (docs/signals.md). */
export function createVersionSignalInsightsForwarder(
  upstream: Client<typeof VersionSignalInsightsService>,
  gate: Gate,
  log: Logger,
): VersionSignalInsightsForwarder {
  return createForwarder(VersionSignalInsightsService, upstream, gate, log, "lineage service");
}
