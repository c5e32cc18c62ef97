// The signed statement of what an agent may do: what the pool's key ring
// signs, checked against the JWKS as any member checks it; forged, tampered,
// signed by another key, or about another agent, it is refused.
// Real: Node's crypto, @noble/curves. Nothing stands in.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AgentStatementSchema, type AgentStatement } from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import { AttestationKeyRing, generateAttestationKeyPem } from "./attestation-keys.js";
import { base64url, fromBase64url, toJwks } from "./attestation.js";
import { checkStatement, checkStatementWithKey, followsStatement, statementHash } from "./statement.js";

const INBOX = "a".repeat(64);
const NOW = Date.parse("2026-11-28T12:00:00.000Z");

const pool = new AttestationKeyRing([{ kid: "pool-1", pem: generateAttestationKeyPem() }], () => NOW);
const jwks = toJwks(pool.publicKeys());

function statement(over: Partial<Omit<AgentStatement, "$typeName" | "$unknown">> = {}): AgentStatement {
  return create(AgentStatementSchema, {
    poolId: "pool",
    inboxId: INBOX,
    instanceId: "inst-1",
    conversationId: "conv-1",
    ownerId: "o".repeat(64),
    templateId: "tpl-trip",
    templateVersion: 7,
    agentName: "Trip Planner",
    trustLevel: 2,
    participation: "auto",
    issuedAt: new Date(NOW).toISOString(),
    sequence: 1,
    ...over,
  });
}

describe("checkStatement", () => {
  it("accepts what the pool's key signed, against its JWKS, and says what it states", () => {
    const { jws, kid } = pool.signStatement(statement());
    const check = checkStatement(jws, jwks, { inboxId: INBOX, conversationId: "conv-1" }, { now: NOW });
    expect(check).toMatchObject({ valid: true, kid: "pool-1", hash: statementHash(jws) });
    expect(check.valid && check.statement.trustLevel).toBe(2);
    expect(kid).toBe("pool-1");
  });

  it("refuses a forged one: another key under the pool's kid", () => {
    const forger = new AttestationKeyRing([{ kid: "pool-1", pem: generateAttestationKeyPem() }], () => NOW);
    const { jws } = forger.signStatement(statement({ trustLevel: 4 }));
    expect(checkStatement(jws, jwks, {}, { now: NOW })).toEqual({ valid: false, reason: "not signed by key pool-1" });
  });

  it("refuses a tampered one: the payload changed after signing (trust L2 made L4)", () => {
    const { jws } = pool.signStatement(statement());
    const [h, p, s] = jws.split(".") as [string, string, string];
    const payload = JSON.parse(new TextDecoder().decode(fromBase64url(p))) as Record<string, unknown>;
    const tampered = `${h}.${base64url(new TextEncoder().encode(JSON.stringify({ ...payload, trustLevel: 4 })))}.${s}`;
    expect(checkStatement(tampered, jwks, {}, { now: NOW })).toMatchObject({ valid: false });
  });

  it("refuses one signed by a key the pool does not publish", () => {
    const other = new AttestationKeyRing([{ kid: "other", pem: generateAttestationKeyPem() }], () => NOW);
    const { jws } = other.signStatement(statement());
    expect(checkStatement(jws, jwks, {}, { now: NOW })).toEqual({
      valid: false,
      reason: 'no key "other" in the pool\'s JWKS',
    });
  });

  it("refuses a statement about another agent or conversation than the one it came from", () => {
    const { jws } = pool.signStatement(statement());
    expect(checkStatement(jws, jwks, { inboxId: "b".repeat(64) }, { now: NOW })).toMatchObject({ valid: false });
    expect(checkStatement(jws, jwks, { conversationId: "conv-2" }, { now: NOW })).toMatchObject({ valid: false });
  });

  it("refuses one under an expired key, one dated ahead, and what is not a JWS", () => {
    const { jws } = pool.signStatement(statement());
    const expired = { keys: jwks.keys.map((k) => ({ ...k, exp: new Date(NOW - 1000).toISOString() })) };
    expect(checkStatement(jws, expired, {}, { now: NOW })).toMatchObject({ valid: false });
    const ahead = pool.signStatement(statement({ issuedAt: new Date(NOW + 3_600_000).toISOString() })).jws;
    expect(checkStatement(ahead, jwks, {}, { now: NOW })).toEqual({
      valid: false,
      reason: "issuedAt is in the future",
    });
    expect(checkStatement("not-a-jws", jwks)).toMatchObject({ valid: false });
  });

  it("checks with the key handed beside it, and refuses another kid", () => {
    const { jws } = pool.signStatement(statement());
    const [key] = pool.publicKeys();
    expect(checkStatementWithKey(jws, key!.x, { inboxId: INBOX }, { now: NOW, kid: "pool-1" }).valid).toBe(true);
    expect(checkStatementWithKey(jws, key!.x, {}, { now: NOW, kid: "pool-2" }).valid).toBe(false);
  });
});

describe("followsStatement", () => {
  it("holds when the next names the last one's hash and the next number, for the same agent", () => {
    const first = pool.signStatement(statement()).jws;
    const next = statement({ sequence: 2, previous: statementHash(first) });
    expect(followsStatement(first, statement(), next)).toBe(true);
    expect(followsStatement(first, statement(), statement({ sequence: 2, previous: "00" }))).toBe(false);
    expect(followsStatement(first, statement(), { ...next, instanceId: "inst-2" })).toBe(false);
  });
});
