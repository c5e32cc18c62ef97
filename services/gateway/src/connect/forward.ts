// The gateway's forwarded services (TemplateService, RolloutService,
// ClaimService, LineageService, ...), one table (FORWARDED: each descriptor
// and the internal service it goes to), and one generic forwarder built from
// a descriptor and a gRPC client of that service. Every unary RPC of the descriptor is
// counted against its client address when it is limited (limits/addresses.ts), then
// goes upstream with the gateway's credential and, when the caller presented
// a valid session, the caller's inbox ID in x-pool-caller. Headers of the
// incoming request are never copied: a caller-supplied x-pool-caller (or
// service token) goes nowhere. The REST paths call the same forwarders, so a
// request is authorized and limited the same way whichever face it arrives on.

import type { DescMethod, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { CallOptions, Client, ConnectRouter, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import { AddressBookService } from "@convos-pool/gen/convos/pool/v1/address_book_service_pb.js";
import { ApprovalService } from "@convos-pool/gen/convos/pool/v1/approval_service_pb.js";
import { ConfirmationService } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { ScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
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

/**
 * Every service the gateway forwards, by the name the REST deps give its
 * forwarder, and the internal service it goes to: the one table a new
 * forwarded service joins (docs/rest.md). The templates service is always
 * there; a gateway may run without the claims or the lineage service.
 */
export const FORWARDED = {
  templates: { service: TemplateService, upstream: "templates" },
  curation: { service: StoreCurationService, upstream: "templates" },
  ratings: { service: TemplateRatingService, upstream: "templates" },
  rollouts: { service: RolloutService, upstream: "templates" },
  claims: { service: ClaimService, upstream: "claims" },
  memory: { service: AgentMemoryService, upstream: "claims" },
  addressBook: { service: AddressBookService, upstream: "claims" },
  approvals: { service: ApprovalService, upstream: "claims" },
  confirmations: { service: ConfirmationService, upstream: "claims" },
  schedules: { service: ScheduleService, upstream: "claims" },
  lineage: { service: LineageService, upstream: "lineage" },
  patterns: { service: PatternInsightsService, upstream: "lineage" },
  signals: { service: VersionSignalInsightsService, upstream: "lineage" },
} as const satisfies Record<string, { service: DescService; upstream: Upstream }>;

/** The internal services the gateway forwards to. */
export type Upstream = "templates" | "claims" | "lineage";
type Forwarded = typeof FORWARDED;
type ForwarderOf<K extends keyof Forwarded> = Forwarder<Forwarded[K]["service"]>;

/** The forwarders: the templates service's always, the others' when the gateway has their service. */
export type Forwarders = {
  [K in keyof Forwarded as Forwarded[K]["upstream"] extends "templates" ? K : never]: ForwarderOf<K>;
} & {
  [K in keyof Forwarded as Forwarded[K]["upstream"] extends "templates" ? never : K]?: ForwarderOf<K> | undefined;
};

export type TemplatesForwarder = ForwarderOf<"templates">;
export type RolloutsForwarder = ForwarderOf<"rollouts">;
export type ClaimsForwarder = ForwarderOf<"claims">;
export type MemoryForwarder = ForwarderOf<"memory">;
export type AddressBookForwarder = ForwarderOf<"addressBook">;
export type ApprovalsForwarder = ForwarderOf<"approvals">;
export type ConfirmationsForwarder = ForwarderOf<"confirmations">;
export type SchedulesForwarder = ForwarderOf<"schedules">;
export type LineageForwarder = ForwarderOf<"lineage">;
export type CurationForwarder = ForwarderOf<"curation">;
export type RatingsForwarder = ForwarderOf<"ratings">;
export type PatternInsightsForwarder = ForwarderOf<"patterns">;
export type VersionSignalInsightsForwarder = ForwarderOf<"signals">;

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

/** FORWARDED's rows, each descriptor seen as any service (the loops below treat them alike). */
const ROWS: [string, { service: DescService; upstream: Upstream }][] = Object.entries(FORWARDED);

/** A client of the internal service `upstream` for `service`; undefined when the gateway has none. */
export type UpstreamClient = <S extends DescService>(service: S, upstream: Upstream) => Client<S> | undefined;

/** Every forwarder of FORWARDED whose upstream the gateway has, each named as its internal service ("claims service"). */
export function createForwarders(clientOf: UpstreamClient, gate: Gate, log: Logger): Forwarders {
  const out: Record<string, unknown> = {};
  for (const [key, { service, upstream }] of ROWS) {
    const client = clientOf(service, upstream);
    if (client) out[key] = createForwarder(service, client, gate, log, `${upstream} service`);
    else if (upstream === "templates")
      throw new Error(`the gateway needs the templates service for ${service.typeName}`);
  }
  return out as Forwarders;
}

/**
 * Each service of FORWARDED on the Connect face: its forwarder's methods,
 * or UNAVAILABLE with `notConfigured[upstream]` when the gateway has no
 * forwarder for it.
 */
export function routeForwarded(
  router: ConnectRouter,
  forwarders: Forwarders,
  notConfigured: Partial<Record<Upstream, string>>,
): void {
  const have = forwarders as unknown as Record<string, Forwarder<DescService> | undefined>;
  for (const [key, { service, upstream }] of ROWS) {
    const fwd = have[key];
    router.service<DescService>(
      service,
      fwd
        ? forwardedServiceImpl<DescService>(service, fwd)
        : unavailableServiceImpl<DescService>(service, notConfigured[upstream] ?? `${upstream} service unavailable`),
    );
  }
}

/**
 * An error the internal service answered passes through as it is: code,
 * message and details (its BadRequest, a QuotaFailure), but not its
 * response metadata, save the Retry-After a limit's RetryInfo asks for. An error
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
