// The agent's signed statement of what it may do (docs/statement.md): a
// compact JWS (RFC 7515; alg EdDSA, typ convos-pool-statement+jws, the
// attestation key's kid) whose payload is an AgentStatement in proto JSON,
// signed by the claims service with the same Ed25519 keys as the badge and
// checked against the same JWKS (/.well-known/agents.json). Checking only,
// and no Node module: the CLI, the agent and a test member use it; the
// signing input is made here and signed by the key ring
// (attestation-keys.ts).
import { fromJson, toJsonString } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519";
import { sha256 } from "viem";
import { AgentStatementSchema, type AgentStatement } from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import { ATTESTATION_SKEW_MS, base64url, fromBase64url, type AttestationJwks } from "./attestation.js";

export const STATEMENT_JWS_TYPE = "convos-pool-statement+jws";

export type StatementCheck =
  | { valid: true; statement: AgentStatement; kid: string; hash: string }
  | { valid: false; reason: string };

const text = new TextEncoder();
const words = new TextDecoder("utf-8", { fatal: true });

/** What the key signs: `base64url(header).base64url(payload)`. */
export function statementSigningInput(statement: AgentStatement, kid: string): string {
  const header = base64url(text.encode(JSON.stringify({ alg: "EdDSA", typ: STATEMENT_JWS_TYPE, kid })));
  const payload = base64url(text.encode(toJsonString(AgentStatementSchema, statement)));
  return `${header}.${payload}`;
}

/** The compact JWS of a signing input and its 64-byte signature. */
export function statementJws(signingInput: string, signature: Uint8Array): string {
  return `${signingInput}.${base64url(signature)}`;
}

/** What `previous` names: hex SHA-256 of the compact JWS as posted. */
export function statementHash(jws: string): string {
  return sha256(text.encode(jws), "hex").slice(2);
}

function decodePart(part: string): unknown {
  const bytes = fromBase64url(part);
  if (!bytes) return undefined;
  try {
    return JSON.parse(words.decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

/** What the statement is expected to be about; each one given is checked. */
export interface StatementExpect {
  /** The agent's inbox (the sender of the message that carried it). */
  inboxId?: string;
  conversationId?: string;
  poolId?: string;
}

/**
 * Checks a statement against one public key (base64url of its 32 raw
 * bytes): the header, the signature over the exact bytes posted, a payload
 * that is an AgentStatement, not dated ahead, and what `expect` names.
 */
export function checkStatementWithKey(
  jws: string,
  x: string,
  expect: StatementExpect = {},
  opts: { now?: number; kid?: string } = {},
): StatementCheck {
  const parts = jws.split(".");
  if (parts.length !== 3) return { valid: false, reason: "not a compact JWS (three parts)" };
  const [h = "", p = "", s = ""] = parts;
  const header = decodePart(h) as { alg?: unknown; typ?: unknown; kid?: unknown } | undefined;
  if (header?.alg !== "EdDSA" || header.typ !== STATEMENT_JWS_TYPE || typeof header.kid !== "string") {
    return { valid: false, reason: `header is not {alg: EdDSA, typ: ${STATEMENT_JWS_TYPE}, kid}` };
  }
  if (opts.kid !== undefined && header.kid !== opts.kid)
    return { valid: false, reason: `signed by ${header.kid}, not ${opts.kid}` };
  const sig = fromBase64url(s);
  const pub = fromBase64url(x);
  if (sig?.length !== 64) return { valid: false, reason: "signature is not 64 bytes" };
  if (pub?.length !== 32) return { valid: false, reason: `key ${header.kid} is not a 32-byte Ed25519 key` };
  let ok = false;
  try {
    ok = ed25519.verify(sig, text.encode(`${h}.${p}`), pub);
  } catch {
    ok = false;
  }
  if (!ok) return { valid: false, reason: `not signed by key ${header.kid}` };
  const json = decodePart(p);
  let statement: AgentStatement;
  try {
    statement = fromJson(AgentStatementSchema, json as never);
  } catch {
    return { valid: false, reason: "payload is not an AgentStatement" };
  }
  const at = Date.parse(statement.issuedAt);
  if (Number.isNaN(at)) return { valid: false, reason: "issuedAt is not a timestamp" };
  if (at - (opts.now ?? Date.now()) > ATTESTATION_SKEW_MS) return { valid: false, reason: "issuedAt is in the future" };
  for (const field of ["inboxId", "conversationId", "poolId"] as const) {
    const want = expect[field];
    if (want !== undefined && statement[field] !== want) {
      return { valid: false, reason: `names ${field} ${statement[field]}, not ${want}` };
    }
  }
  return { valid: true, statement, kid: header.kid, hash: statementHash(jws) };
}

/**
 * Checks a posted statement as any member can: the key its header names in
 * the pool's JWKS (Ed25519, not expired), then checkStatementWithKey.
 */
export function checkStatement(
  jws: string,
  jwks: AttestationJwks,
  expect: StatementExpect = {},
  opts: { now?: number } = {},
): StatementCheck {
  const header = decodePart(jws.split(".")[0] ?? "") as { kid?: unknown } | undefined;
  const kid = typeof header?.kid === "string" ? header.kid : undefined;
  if (kid === undefined) return { valid: false, reason: "header names no kid" };
  const key = Array.isArray(jwks.keys) ? jwks.keys.find((k) => k.kid === kid) : undefined;
  if (!key) return { valid: false, reason: `no key ${JSON.stringify(kid)} in the pool's JWKS` };
  if (key.kty !== "OKP" || key.crv !== "Ed25519") return { valid: false, reason: `key ${kid} is not Ed25519` };
  if (key.exp !== undefined) {
    const exp = Date.parse(key.exp);
    if (Number.isNaN(exp) || exp < (opts.now ?? Date.now()))
      return { valid: false, reason: `key ${kid} expired (${key.exp})` };
  }
  return checkStatementWithKey(jws, key.x, expect, { ...opts, kid });
}

/** Whether `next` follows `prevJws`: it names its hash and the next sequence number, for the same agent. */
export function followsStatement(prevJws: string, prev: AgentStatement, next: AgentStatement): boolean {
  return (
    next.previous === statementHash(prevJws) &&
    next.sequence === prev.sequence + 1 &&
    next.inboxId === prev.inboxId &&
    next.instanceId === prev.instanceId
  );
}
