// Signing with any wallet for one pool: the EIP-712 domain that names the
// pool, and an operation signed (a sign-in is sign-in.ts's). Safe in a browser (the web app
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
