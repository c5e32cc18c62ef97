// Verification of the pool's signatures: EIP-712 operations (the types are operations.ts's, signing is sign.ts's)
// and EIP-4361 sign-ins (sign-in.ts).
import {
  isAddress,
  recoverMessageAddress,
  recoverTypedDataAddress,
  type Hex,
  type RecoverTypedDataAddressParameters,
} from "viem";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { invalidArgument, permissionDenied, unauthenticated } from "../content/errors.js";
import type { InboxResolver } from "./inbox.js";
import { signatureDomain } from "./sign.js";
import { signInMessage, type SignIn } from "./sign-in.js";
import { signedMessage, signedTypeOf, type OperationFields, type SignedOperation } from "./operations.js";

const SIGNATURE_HEX = /^0x[0-9a-fA-F]{130}$/;
const NONCE_HEX = /^0x[0-9a-fA-F]{64}$/;

export interface VerifierOptions {
  resolver: InboxResolver;
  /** The pool whose signatures it accepts (sign.ts signatureDomain): one signed for another pool is refused. */
  poolId: string;
  /** How old a signature may be. */
  maxAgeSeconds?: number;
  /** How far in the future issuedAt may be (clock skew). */
  maxSkewSeconds?: number;
  now?: () => number;
  /** Where signers are recovered: in-line by default, or a SignerRecoveryPool. */
  recover?: (params: RecoverTypedDataAddressParameters) => Promise<Hex>;
}

export interface VerifiedSignature {
  /** The wallet that signed. */
  address: Hex;
  /** To be consumed once, in the same transaction as the change it authorizes. */
  nonce: string;
  /** The signature it checked: what a record of the change keeps. */
  signature: Signature;
}

/**
 * Rebuilds the typed data of an operation from the request, recovers the
 * signer and checks that it is a wallet of the claimed inbox. Does not consume
 * the nonce: the caller does that in the transaction of the change itself, so
 * that a refused change does not burn it and a replay finds it used.
 */
export class SignatureVerifier {
  private readonly maxAge: number;
  private readonly maxSkew: number;
  private readonly now: () => number;
  private readonly recover: (params: RecoverTypedDataAddressParameters) => Promise<Hex>;
  private readonly domain: ReturnType<typeof signatureDomain>;

  constructor(private readonly options: VerifierOptions) {
    this.domain = signatureDomain(options.poolId);
    this.maxAge = options.maxAgeSeconds ?? 300;
    this.maxSkew = options.maxSkewSeconds ?? 60;
    this.now = options.now ?? (() => Date.now());
    this.recover = options.recover ?? recoverTypedDataAddress;
  }

  /** The pool whose signatures it accepts. */
  get poolId(): string {
    return this.options.poolId;
  }

  async verify(
    operation: SignedOperation,
    fields: OperationFields & { inboxId: string },
    signature: Signature | undefined,
    field = "signature",
    opts: { anyAge?: boolean } = {},
  ): Promise<VerifiedSignature> {
    if (!signature) throw unauthenticated(`${field}: required for ${operation}`);
    this.checkEnvelope(signature, field, opts.anyAge === true);
    let address: Hex;
    try {
      address = await this.recover({
        domain: this.domain,
        types: { [operation]: signedTypeOf(operation, fields) },
        primaryType: operation,
        message: {
          ...signedMessage(operation, fields),
          issuedAt: BigInt(signature.issuedAt),
          nonce: signature.nonce as Hex,
        },
        signature: signature.signature as Hex,
        // The operation is only known at run time; viem's types want it static.
      } as unknown as RecoverTypedDataAddressParameters);
    } catch {
      throw unauthenticated(`${field}: not a valid signature`);
    }
    if (!(await this.options.resolver.addressBelongsToInbox(address, fields.inboxId))) {
      // A forged or mismatched signature, or one for another pool, recovers some unrelated address.
      throw permissionDenied(
        `${field}: not signed by a wallet of inbox ${fields.inboxId} for this ${operation} in pool "${this.options.poolId}"`,
      );
    }
    return { address, nonce: signature.nonce.toLowerCase(), signature };
  }

  /**
   * Checks a sign-in (sign-in.ts): rebuilds its EIP-4361 text from the
   * request, recovers the wallet that signed it (EIP-191), which must be the
   * wallet the request names and a wallet of the inbox. Where it was made for
   * is the caller's to check first; the nonce, as for verify, the caller's to
   * spend.
   */
  async verifySignIn(
    req: Omit<SignIn, "signature"> & { signature: Signature | undefined },
  ): Promise<VerifiedSignature> {
    const { signature } = req;
    if (!signature) throw unauthenticated("signature: required to sign in");
    this.checkEnvelope(signature, "signature", false);
    if (!isAddress(req.address, { strict: false })) {
      throw invalidArgument("address", "must be the 0x address of the wallet that signs in");
    }
    let message: string;
    try {
      message = signInMessage({
        ...req,
        poolId: this.options.poolId,
        nonce: signature.nonce,
        issuedAt: Number(signature.issuedAt),
      });
    } catch {
      throw invalidArgument(
        "origin",
        "must be a host a sign-in message can name (a domain name, an IPv4 address or localhost)",
      );
    }
    let address: Hex;
    try {
      address = await recoverMessageAddress({ message, signature: signature.signature as Hex });
    } catch {
      throw unauthenticated("signature: not a valid signature");
    }
    if (address.toLowerCase() !== req.address.toLowerCase()) {
      // Another message was signed: for another place, pool, inbox or time, or by another wallet.
      throw unauthenticated(
        `signature: not ${req.address}'s sign-in to pool "${this.options.poolId}" at ${req.uri} as inbox ${req.inboxId}`,
      );
    }
    if (!(await this.options.resolver.addressBelongsToInbox(address, req.inboxId))) {
      throw permissionDenied(`address: ${address} is not a wallet of inbox ${req.inboxId}`);
    }
    return { address, nonce: signature.nonce.toLowerCase(), signature };
  }

  /** The envelope every signature carries: its shape, a nonce, and a time inside the window (unless anyAge). */
  private checkEnvelope(signature: Signature, field: string, anyAge: boolean): void {
    if (!SIGNATURE_HEX.test(signature.signature)) {
      throw invalidArgument(`${field}.signature`, "must be a 0x-prefixed 65-byte hex signature");
    }
    if (!NONCE_HEX.test(signature.nonce)) {
      throw invalidArgument(`${field}.nonce`, "must be 0x-prefixed 32 bytes of hex");
    }
    const nowSeconds = Math.floor(this.now() / 1000);
    const issuedAt = Number(signature.issuedAt);
    // A template release is re-checked by instances long after it was signed
    // (durable delivery); its replay guard is the version, not the clock.
    if (!anyAge && (issuedAt < nowSeconds - this.maxAge || issuedAt > nowSeconds + this.maxSkew)) {
      throw unauthenticated(`${field}.issued_at: outside the accepted window of ${this.maxAge} s; sign again`);
    }
  }
}
