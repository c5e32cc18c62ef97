/**
 * TEST HELPER. The gateway's REST face as its tests call it (docs/rest.md):
 * one call, with a JSON body, a session's bearer token, If-Match and more
 * headers, and its answer's body parsed; a signed operation in the REST
 * body's form; a session bought with a signed sign-in.
 */
import { expect } from "vitest";
import {
  signInJson,
  signOperation,
  signSignIn,
  type OperationFields,
  type SignedOperation,
} from "@convos-pool/kit/signing";
import type { TestIdentity } from "@convos-pool/kit/testing";

export interface RestAnswer {
  status: number;
  headers: Headers;
  // What the tests read of an answer's body: JSON of any shape, undefined when it has none.
  json: any;
}

export interface RestCall {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is, as JSON's content type: a body that is not valid JSON. */
  raw?: string;
  token?: string | undefined;
  ifMatch?: string | number;
  headers?: Record<string, string>;
}

/** One REST call to the gateway at `baseUrl`. */
export async function restCall(
  baseUrl: string,
  method: string,
  path: string,
  call: RestCall = {},
): Promise<RestAnswer> {
  const headers: Record<string, string> = { ...call.headers };
  if (call.body !== undefined || call.raw !== undefined) headers["content-type"] = "application/json";
  if (call.token) headers.authorization = `Bearer ${call.token}`;
  if (call.ifMatch !== undefined) headers["if-match"] = String(call.ifMatch);
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(call.raw !== undefined || call.body !== undefined ? { body: call.raw ?? JSON.stringify(call.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

/** A signed operation in the REST body's form, `{signature, issued_at, nonce}`. */
export function restSignature(s: { signature: string; issuedAt: bigint; nonce: string }) {
  return { signature: s.signature, issued_at: Number(s.issuedAt), nonce: s.nonce };
}

/** `c`'s operation over `fields` (and `c`'s inbox id), signed by `signer` (`c` unless said), in the REST body's form. */
export async function restSig(c: TestIdentity, op: SignedOperation, fields: OperationFields, signer = c) {
  return restSignature(await signOperation(signer.account, op, { inboxId: c.inboxId, ...fields }));
}

/**
 * The body of POST /api/pool/sessions: `c` signing in to the gateway at
 * `madeFor` (its origin and URL), signed by `signer` (`c` unless said).
 */
export async function restSignIn(madeFor: string, c: TestIdentity, signer = c, issuedAt?: number) {
  return signInJson(await signSignIn(signer.account, c.inboxId, madeFor, issuedAt));
}

/** A session of `c` on the gateway at `baseUrl`, bought with a sign-in made for it: its token. */
export async function restSession(baseUrl: string, c: TestIdentity): Promise<string> {
  const res = await restCall(baseUrl, "POST", "/api/pool/sessions", { body: await restSignIn(baseUrl, c) });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json.token as string;
}
