// Signing with any wallet for one pool: the EIP-712 domain that names the
// pool, an operation signed, and a sign-in. Safe in a browser (the web app
// signs with it) as in Node; what each operation signs is operations.ts's,
// verification is signatures.ts's.
import { create } from "@bufbuild/protobuf";
import { keccak256, stringToBytes, toHex, type Hex, type TypedDataDefinition } from "viem";
import { SignatureSchema, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { signedMessage, signedTypeOf, type OperationFields, type SignedOperation } from "./operations.js";

/** The domain's name and version; its salt names the pool (signatureDomain). */
const DOMAIN_NAME = "Convos Agent Pool";
const DOMAIN_VERSION = "1";

/**
 * The pool id of `npm start` and of the tests; a deployed service refuses to
 * start without its own (POOL_ID), so that a signature made for one pool is
 * refused by every other.
 */
export const LOCAL_POOL_ID = "local";

const POOL_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether `id` can name a pool: lower-case letters, digits and inner dashes, at most 63. */
export function isPoolId(id: string): boolean {
  return POOL_ID.test(id);
}

/** The EIP-712 domain of every signature for the pool `poolId`: its salt is keccak256 of the id's UTF-8 bytes. */
export function signatureDomain(poolId: string): { name: string; version: string; salt: Hex } {
  if (!isPoolId(poolId)) throw new Error(`"${poolId}" is not a pool id (lower-case letters, digits, dashes)`);
  return { name: DOMAIN_NAME, version: DOMAIN_VERSION, salt: keccak256(stringToBytes(poolId)) };
}

/**
 * Where a sign-in is made for, as Sign-In with Ethereum (EIP-4361) names it:
 * the origin (scheme://host[:port]) of the page or client that signs in, and
 * the URI of the gateway it signs in to. CreateSession signs both and the
 * gateway refuses an origin that is not its own, so a sign-in that a
 * look-alike site (same pool id, its own origin) obtains is worthless here.
 */
// A type, not an interface: it is also an operation's fields (OperationFields).
export type SignInPlace = {
  origin: string;
  uri: string;
};

/**
 * The place of a sign-in to the gateway at `gatewayUrl` (the CLI's and the
 * web app's: the web app is served by its gateway): the URL's origin, and the
 * URL itself. Throws for a URL that is not http(s).
 */
export function signInPlace(gatewayUrl: string): SignInPlace {
  const u = new URL(gatewayUrl);
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`not an http(s) URL: ${gatewayUrl}`);
  return { origin: u.origin, uri: u.href };
}

/**
 * What signs: a viem local account, or an adapter of a browser wallet
 * (EIP-1193) that signs typed data with eth_signTypedData_v4.
 */
export interface TypedDataSigner {
  signTypedData(typedData: TypedDataDefinition): Promise<Hex>;
}

/**
 * Signs an operation for the pool `poolId` (the CLI and the web app ask the
 * gateway for it: SessionService.GetSigningDomain); tests and benchmarks
 * sign for LOCAL_POOL_ID.
 */
export async function signOperation(
  account: TypedDataSigner,
  operation: SignedOperation,
  fields: OperationFields & { inboxId: string },
  issuedAt: number = Math.floor(Date.now() / 1000),
  poolId: string = LOCAL_POOL_ID,
): Promise<Signature> {
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const signature = await account.signTypedData({
    domain: signatureDomain(poolId),
    types: { [operation]: signedTypeOf(operation, fields) },
    primaryType: operation,
    message: { ...signedMessage(operation, fields), issuedAt: BigInt(issuedAt), nonce },
  } as unknown as TypedDataDefinition);
  return create(SignatureSchema, { signature, issuedAt: BigInt(issuedAt), nonce });
}

/** A signed sign-in (CreateSession) as a client sends it: who, where for, and the signature. */
export type SignIn = SignInPlace & {
  inboxId: string;
  signature: Signature;
};

/** Signs in `inboxId` to the gateway at `gatewayUrl` (CreateSession over signInPlace): for the CLI, tests and benchmarks. */
export async function signSignIn(
  account: TypedDataSigner,
  inboxId: string,
  gatewayUrl: string,
  issuedAt?: number,
  poolId?: string,
): Promise<SignIn> {
  const place = signInPlace(gatewayUrl);
  const signature = await signOperation(account, "CreateSession", { inboxId, ...place }, issuedAt, poolId);
  return { inboxId, ...place, signature };
}
