// Sign-in with Ethereum (EIP-4361): the one message a wallet signs to sign in
// to a pool's gateway. A wallet reads EIP-4361 and compares its domain with
// the page asking (typed data it only shows), so a look-alike page asking for
// the real pool's sign-in is flagged by the wallet itself. Client and gateway
// build the same text from the same fields (signInMessage); the gateway never
// parses text a client wrote. Safe in a browser as in Node.
import { create } from "@bufbuild/protobuf";
import { getAddress, toHex, type Hex } from "viem";
import { createSiweMessage } from "viem/siwe";
import { SignatureSchema, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { LOCAL_POOL_ID } from "./sign.js";

/**
 * Where a sign-in is made for: the origin (scheme://host[:port]) of the page
 * or client signing in, which becomes the message's scheme and domain, and
 * the URI of the gateway it signs in to, under that origin.
 */
// A type, not an interface: it spreads into requests.
export type SignInPlace = {
  origin: string;
  uri: string;
};

/** How long a signed sign-in stays good, as the message says (its Expiration Time) and the gateway holds. */
export const SIGN_IN_TTL_SECONDS = 300;

/** EIP-155's chain id in the message: a sign-in is bound to no chain, and 1 is what wallets show as "Ethereum". */
const SIGN_IN_CHAIN_ID = 1;

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

/** What a sign-in says, beside its place: who signs in, with which wallet, when, and once (the nonce). */
export interface SignInFields extends SignInPlace {
  poolId: string;
  inboxId: string;
  address: string;
  /** 0x and 32 bytes of hex; the message carries the hex digits (EIP-4361 nonces are alphanumeric). */
  nonce: string;
  /** Unix seconds. */
  issuedAt: number;
}

/** The sentence the person reads in their wallet: which pool, as which Convos inbox. */
export function signInStatement(poolId: string, inboxId: string): string {
  return `Sign in to the Convos agent pool "${poolId}" as the inbox ${inboxId}.`;
}

/**
 * The EIP-4361 text for `fields`. Throws for fields it cannot carry (an
 * address that is not one, a host EIP-4361 does not take): the gateway says
 * which, as INVALID_ARGUMENT.
 */
export function signInMessage(fields: SignInFields): string {
  const origin = new URL(fields.origin);
  return createSiweMessage({
    scheme: origin.protocol.slice(0, -1),
    domain: origin.host,
    address: getAddress(fields.address),
    statement: signInStatement(fields.poolId, fields.inboxId),
    uri: fields.uri,
    version: "1",
    chainId: SIGN_IN_CHAIN_ID,
    nonce: fields.nonce.replace(/^0x/, ""),
    issuedAt: new Date(fields.issuedAt * 1000),
    expirationTime: new Date((fields.issuedAt + SIGN_IN_TTL_SECONDS) * 1000),
  });
}

/** What signs a sign-in: a viem local account, or an adapter of a browser wallet (personal_sign). */
export interface MessageSigner {
  address: Hex;
  signMessage(args: { message: string }): Promise<Hex>;
}

/** A signed sign-in as a client sends it (CreateSessionRequest): who, with which wallet, where for, the signature. */
export type SignIn = SignInPlace & {
  inboxId: string;
  address: string;
  signature: Signature;
};

/** Signs in `inboxId` to the gateway at `gatewayUrl`: the web app, the CLI, tests and benchmarks. */
export async function signSignIn(
  signer: MessageSigner,
  inboxId: string,
  gatewayUrl: string,
  issuedAt: number = Math.floor(Date.now() / 1000),
  poolId: string = LOCAL_POOL_ID,
): Promise<SignIn> {
  const place = signInPlace(gatewayUrl);
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const address = getAddress(signer.address);
  const message = signInMessage({ ...place, poolId, inboxId, address, nonce, issuedAt });
  const signature = await signer.signMessage({ message });
  return {
    inboxId,
    address,
    ...place,
    signature: create(SignatureSchema, { signature, issuedAt: BigInt(issuedAt), nonce }),
  };
}

/** A sign-in as the body of POST /api/pool/sessions (docs/rest.md, "Sessions"). */
export function signInJson(s: SignIn): {
  inbox_id: string;
  address: string;
  origin: string;
  uri: string;
  signature: { signature: string; issued_at: number; nonce: string };
} {
  const { signature, issuedAt, nonce } = s.signature;
  return {
    inbox_id: s.inboxId,
    address: s.address,
    origin: s.origin,
    uri: s.uri,
    signature: { signature, issued_at: Number(issuedAt), nonce },
  };
}
