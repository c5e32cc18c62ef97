// One signature check per release per host process (docs/instance.md,
// "Instruction updates"; docs/security.md, "One check per host"). A host runs
// many agents of the same template, and an update reaches all of them with
// the same signed release: checking it once per agent recovered the same
// signer (a few ms of CPU) and asked the network the same question thousands
// of times. The agents of a host already share its process, its keys and its
// inbox resolver, so a check one of them made is as good as the others'.
import type { Hex } from "viem";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { SignatureVerifier } from "./signatures.js";
import { signedTypeOf, type OperationFields, type SignedOperation } from "./operations.js";

/** What checks a release's signatures: a SignatureVerifier, or a host's VerifiedReleases in front of one. */
export type ReleaseVerifier = Pick<SignatureVerifier, "verify">;

/** Enough for every release of every template a host of 1,000 agents runs, many times over. */
export const VERIFIED_RELEASES_MAX_ENTRIES = 10_000;
/**
 * How long a check stands. A wallet removed from the creator's inbox is
 * refused once it runs out (plus the resolver's own cache, 10 s for
 * XmtpInboxResolver); a fan-out of one release to every agent takes seconds.
 */
export const VERIFIED_RELEASES_TTL_MS = 60_000;

export interface VerifiedReleasesOptions {
  verifier: SignatureVerifier;
  maxEntries?: number;
  ttlMs?: number;
  now?: () => number;
}

/**
 * A drop-in SignatureVerifier for releases (signatures accepted at any age):
 * a successful check is remembered by the exact values signed and the
 * signature, least recently used first out, for `ttlMs`; concurrent checks
 * of the same release wait for one. Refusals are not remembered, so a
 * resolver that was briefly down refuses nothing for long. Checks against
 * the clock (not any age) pass straight through: their window is the point.
 */
export class VerifiedReleases implements ReleaseVerifier {
  private readonly verified = new Map<string, { address: Hex; until: number }>();
  private readonly inFlight = new Map<string, Promise<Hex>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: VerifiedReleasesOptions) {
    this.maxEntries = options.maxEntries ?? VERIFIED_RELEASES_MAX_ENTRIES;
    this.ttlMs = options.ttlMs ?? VERIFIED_RELEASES_TTL_MS;
    this.now = options.now ?? (() => Date.now());
  }

  /** SignatureVerifier's verify, its arguments as that one's: a check of any age is remembered. */
  readonly verify: ReleaseVerifier["verify"] = async (operation, fields, signature, field = "signature", opts = {}) => {
    if (!signature || !opts.anyAge) return this.options.verifier.verify(operation, fields, signature, field, opts);
    const key = signedKey(operation, fields, signature);
    const address = this.remembered(key) ?? (await this.checkOnce(key, operation, fields, signature, field));
    return { address, nonce: signature.nonce.toLowerCase(), signature };
  };

  private remembered(key: string): Hex | undefined {
    const entry = this.verified.get(key);
    if (!entry) return undefined;
    this.verified.delete(key);
    if (entry.until <= this.now()) return undefined;
    this.verified.set(key, entry); // now the most recently used
    return entry.address;
  }

  private checkOnce(
    key: string,
    operation: SignedOperation,
    fields: OperationFields & { inboxId: string },
    signature: Signature,
    field: string,
  ): Promise<Hex> {
    // Keyed with the field too: a refusal names the field of the caller that waited for it.
    const flightKey = `${field}\n${key}`;
    let flight = this.inFlight.get(flightKey);
    if (!flight) {
      flight = this.options.verifier
        .verify(operation, fields, signature, field, { anyAge: true })
        .then(({ address }) => {
          this.remember(key, address);
          return address;
        })
        .finally(() => this.inFlight.delete(flightKey));
      this.inFlight.set(flightKey, flight);
    }
    return flight;
  }

  private remember(key: string, address: Hex): void {
    this.verified.delete(key);
    this.verified.set(key, { address, until: this.now() + this.ttlMs });
    if (this.verified.size > this.maxEntries) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
  }
}

/**
 * Every value the typed data is built from (the domain is fixed), in the
 * type's order, and the signature: equal keys mean the same signed bytes and
 * the same signature. Cheaper than hashing the typed data, which costs a
 * tenth of recovering the signer.
 */
function signedKey(operation: SignedOperation, fields: OperationFields, signature: Signature): string {
  const values = signedTypeOf(operation, fields).map(({ name }) => {
    if (name === "issuedAt") return signature.issuedAt.toString();
    if (name === "nonce") return signature.nonce;
    const value = fields[name];
    return typeof value === "bigint" ? value.toString() : value;
  });
  return JSON.stringify([operation, ...values, signature.signature]);
}
