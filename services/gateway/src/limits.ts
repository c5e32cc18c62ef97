// Limits per client address (docs/limits.md): only the gateway sees clients,
// so it limits claims, sign-ins and template writes by address, before any
// other work. Per-caller limits sit where the caller is proven (sign-ins in
// sessions.ts; claims and template writes in their services).

import { isIPv4, isIPv6 } from "node:net";
import { RateLimit, type LimitConfig } from "@convos-pool/kit";

export type LimitClass = "claims" | "sign-ins" | "template-writes";

/** The RPCs each class counts, by `<service>.<method>` (both faces call these). */
const CLASSES: Readonly<Record<string, LimitClass>> = {
  "convos.pool.v1.ClaimService.Claim": "claims",
  "convos.pool.v1.SessionService.CreateSession": "sign-ins",
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

/** An address as one allowance: IPv4-mapped IPv6 as IPv4, other IPv6 by its /64, anything else as it is. */
export function addressKey(address: string): string {
  const bare = address.split("%", 1)[0]!.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped) return mapped[1]!;
  if (isIPv4(bare) || !isIPv6(bare)) return bare;
  return `${expandIPv6(bare).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, in hex without leading zeros. */
function expandIPv6(address: string): string[] {
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
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

/** The gateway's limits per client address. */
export class AddressLimits {
  private readonly trusted: ReadonlySet<string>;
  private readonly byClass: Record<LimitClass, RateLimit>;

  constructor(limits: LimitConfig, trustedProxies: readonly string[] = []) {
    this.trusted = new Set(trustedProxies.map(addressKey));
    this.byClass = {
      claims: new RateLimit("claims per client address", limits.claimsPerAddress),
      "sign-ins": new RateLimit("sign-ins per client address", limits.signInsPerAddress),
      "template-writes": new RateLimit("template writes per client address", limits.templateWritesPerAddress),
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
