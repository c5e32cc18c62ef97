// Limits per client address (docs/limits.md): only the gateway sees clients,
// so it limits claims, sign-ins and template writes by address, before any
// other work. Per-caller limits sit where the caller is proven (sign-ins in
// sessions/service.ts; claims and template writes in their services).

import { isIPv4, isIPv6 } from "node:net";
import { addressKey, RateLimit, type LimitConfig, type RateStore } from "@convos-pool/kit/server";

// The kit's server counts connections per address with the same key.
export { addressKey };

export type LimitClass = "claims" | "sign-ins" | "template-writes";

/** The RPCs each class counts, by `<service>.<method>` (both faces call these). */
const CLASSES: Readonly<Record<string, LimitClass>> = {
  "convos.pool.v1.ClaimService.Claim": "claims",
  "convos.pool.v1.SessionService.CreateSession": "sign-ins",
  "convos.pool.v1.SessionService.StartConvosSignIn": "sign-ins",
  ...Object.fromEntries(
    [
      "CreateTemplate",
      "UpdateTemplate",
      "PatchTemplate",
      "SetTemplateVisibility",
      "ArchiveTemplate",
      "DeleteTemplate",
      "RollbackTemplate",
    ].map((m) => [`convos.pool.v1.TemplateService.${m}`, "template-writes" as const]),
  ),
  // A rollout's start is a content change, and each step a signed write (docs/rollouts.md).
  ...Object.fromEntries(
    ["StartRollout", "StepRollout"].map((m) => [`convos.pool.v1.RolloutService.${m}`, "template-writes" as const]),
  ),
  // Reports and curation write to the store too (docs/store.md).
  ...Object.fromEntries(
    [
      "ReportTemplate",
      "DismissReports",
      "DelistTemplate",
      "RelistTemplate",
      "RequestReview",
      "DeclineReview",
      "SetFeatured",
      "SetToolGrant",
    ].map((m) => [`convos.pool.v1.StoreCurationService.${m}`, "template-writes" as const]),
  ),
};

/** The class of an RPC, if it is limited. */
export function limitClassOf(service: string, method: string): LimitClass | undefined {
  return CLASSES[`${service}.${method}`];
}

/**
 * The client a request comes from: the TCP peer, or, when the peer is a
 * trusted proxy, the rightmost X-Forwarded-For entry that is not one (the
 * entries to its left are whatever the client wrote).
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: ReadonlySet<string>,
): string {
  if (peer === undefined) return "unknown";
  let client = addressKey(peer);
  if (!trusted.has(client)) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? ""))
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  for (const hop of hops.reverse()) {
    client = addressKey(hop);
    if (!trusted.has(client)) return client;
  }
  return client;
}

/** Parses POOL_TRUSTED_PROXIES: comma-separated IP addresses. */
export function parseTrustedProxies(text = ""): string[] {
  const out = text
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  for (const a of out)
    if (!isIPv4(a) && !isIPv6(a)) throw new Error(`POOL_TRUSTED_PROXIES: "${a}" is not an IP address`);
  return out;
}

/** What a call needs to be counted: its TCP peer and the X-Forwarded-For it came with. */
export interface ClientOf {
  peer?: string | undefined;
  forwardedFor?: string | string[] | undefined;
}

/** The gateway's limits per client address, counted in `store` (the gateway's database: every replica's). */
export class AddressLimits {
  private readonly trusted: ReadonlySet<string>;
  private readonly byClass: Record<LimitClass, RateLimit>;

  constructor(limits: LimitConfig, store: RateStore, trustedProxies: readonly string[] = []) {
    this.trusted = new Set(trustedProxies.map(addressKey));
    this.byClass = {
      claims: new RateLimit("claims per client address", limits.claimsPerAddress, store),
      "sign-ins": new RateLimit("sign-ins per client address", limits.signInsPerAddress, store),
      "template-writes": new RateLimit("template writes per client address", limits.templateWritesPerAddress, store),
    };
  }

  /** Counts a call of `service.method` against its client's allowance, if that RPC is limited. */
  async take(service: string, method: string, client: ClientOf): Promise<void> {
    const cls = limitClassOf(service, method);
    if (cls)
      await this.byClass[cls].take(
        clientAddress(client.peer, client.forwardedFor, this.trusted),
        "this client address",
      );
  }
}
