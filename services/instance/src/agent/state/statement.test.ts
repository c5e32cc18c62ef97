// The agent's side of its statement (statement.ts): it takes only a
// statement the key handed beside it signed, about itself, and posts each
// one once. Real: the pool's key ring and checks; a Map stands in for the
// workspace, an array for the conversation.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AttestRequestSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { AgentStatementSchema } from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import { AttestationKeyRing, generateAttestationKeyPem } from "@convos-pool/kit/signing";
import { statementJwsIn } from "@convos-pool/kit/content";
import { checkStatementRequest, NO_STATEMENT_YET, postStatement, statementAnswer } from "./statement.js";

const SELF = { inboxId: "a".repeat(64), instanceId: "inst-1" };
const ring = new AttestationKeyRing([{ kid: "pool-1", pem: generateAttestationKeyPem() }]);
const [KEY] = ring.publicKeys();

function request(over: { inboxId?: string; instanceId?: string; ring?: AttestationKeyRing } = {}) {
  const jws = (over.ring ?? ring).signStatement(
    create(AgentStatementSchema, {
      inboxId: over.inboxId ?? SELF.inboxId,
      instanceId: over.instanceId ?? SELF.instanceId,
      ownerId: "o".repeat(64),
      templateId: "tpl",
      templateVersion: 1,
      agentName: "Trip Planner",
      trustLevel: 2,
      participation: "auto",
      issuedAt: new Date().toISOString(),
      sequence: 1,
    }),
  ).jws;
  return create(AttestRequestSchema, { key: { kid: KEY!.kid, x: KEY!.x }, statement: jws });
}

function workspace() {
  const files = new Map<string, unknown>();
  return {
    readJson: async <T>(f: string) => files.get(f) as T | undefined,
    writeJson: async (f: string, v: unknown) => void files.set(f, v),
  };
}

describe("checkStatementRequest", () => {
  it("takes the pool's statement about this agent, as text carrying the signed part", () => {
    const kept = checkStatementRequest(request(), SELF);
    expect(kept?.text).toContain("What I may do here (statement 1");
    expect(statementJwsIn(kept!.text)).toBe(kept!.jws);
  });

  it("refuses one about another agent or instance, and one another key signed", () => {
    expect(() => checkStatementRequest(request({ inboxId: "b".repeat(64) }), SELF)).toThrow(/statement/);
    expect(() => checkStatementRequest(request({ instanceId: "inst-2" }), SELF)).toThrow(/names instance inst-2/);
    const other = new AttestationKeyRing([{ kid: "pool-1", pem: generateAttestationKeyPem() }]);
    expect(() => checkStatementRequest(request({ ring: other }), SELF)).toThrow(/not signed by key pool-1/);
  });

  it("has nothing to take from a call without a statement", () => {
    expect(checkStatementRequest(create(AttestRequestSchema, {}), SELF)).toBeUndefined();
  });
});

describe("postStatement", () => {
  it("posts a statement once, and answers with it after", async () => {
    const ws = workspace();
    const said: string[] = [];
    const kept = checkStatementRequest(request(), SELF)!;
    expect(await statementAnswer(ws)).toBe(NO_STATEMENT_YET);
    expect(await postStatement(ws, kept, async (t) => said.push(t))).toBe(true);
    expect(await postStatement(ws, kept, async (t) => said.push(t))).toBe(false);
    expect(said).toEqual([kept.text]);
    expect(await statementAnswer(ws)).toBe(kept.text);
  });
});
