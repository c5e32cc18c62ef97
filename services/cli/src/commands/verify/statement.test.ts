// pool verify-statement (statement.ts): the agent's latest statement found
// in a dump of a conversation's messages, its signature checked against a
// JWKS, and its words checked against what it signed. Real: the pool's key
// ring signs as the claims service does, the kit's codec and words; the
// dump is written here, and the JWKS is handed in, not fetched.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AgentStatementSchema } from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import { STATEMENT_CONTENT_TYPE, statementText } from "@convos-pool/kit/content";
import { AttestationKeyRing, generateAttestationKeyPem, toJwks } from "@convos-pool/kit/signing";
import { checkStatementMessage, latestStatementOf } from "./statement.js";

const AGENT = "a".repeat(64);
const OWNER = "0".repeat(64);
const ring = new AttestationKeyRing([{ kid: "pool-1", pem: generateAttestationKeyPem() }]);
const jwks = toJwks(ring.publicKeys());

function signed(sequence: number) {
  const statement = create(AgentStatementSchema, {
    inboxId: AGENT,
    instanceId: "inst-1",
    conversationId: "c".repeat(32),
    ownerId: OWNER,
    templateId: "tpl",
    templateVersion: 2,
    agentName: "Trip Planner",
    trustLevel: 2,
    participation: "auto",
    issuedAt: new Date().toISOString(),
    sequence,
  });
  return { jws: ring.signStatement(statement).jws, statement };
}

/** A message as a member's client decodes it (the SDK's DecodedMessage), written out as JSON. */
function message(jws: string, text: string, from = AGENT) {
  return {
    id: `m-${jws.slice(-6)}`,
    senderInboxId: from,
    contentType: STATEMENT_CONTENT_TYPE,
    content: { jws, text },
    fallback: text,
  };
}

describe("pool verify-statement", () => {
  it("finds the agent's latest statement among a conversation's messages, whatever else was said", () => {
    const one = signed(1);
    const two = signed(2);
    const dump = [
      { senderInboxId: OWNER, contentType: { authorityId: "xmtp.org", typeId: "text" }, content: "hi" },
      message(one.jws, "one"),
      message(two.jws, "two"),
      message(signed(3).jws, "someone else's", OWNER),
    ];
    expect(latestStatementOf(AGENT, dump)?.jws).toBe(two.jws);
    expect(latestStatementOf(AGENT, { messages: dump })?.jws).toBe(two.jws);
    expect(latestStatementOf("b".repeat(64), dump)).toBeUndefined();
  });

  it("checks out a statement the pool signed whose words say what it signed, the owner named as the agent saw them", () => {
    const { jws, statement } = signed(1);
    const report = checkStatementMessage(AGENT, message(jws, statementText(statement, { ownerName: "Saul" })), jwks);
    expect(report).toMatchObject({ valid: true, problems: [], owner: "Saul" });
    expect(report.statement).toMatchObject({ sequence: 1, templateVersion: 2, ownerId: OWNER });
  });

  it("does not check out words that say more than the statement signed, a signature of another key, or another agent's", () => {
    const { jws, statement } = signed(1);
    const words = statementText(statement).replace("- Trust: L2", "- Trust: L4");
    expect(checkStatementMessage(AGENT, message(jws, words), jwks)).toMatchObject({
      valid: false,
      problems: [expect.stringMatching(/words differ from the signed statement/)],
    });
    const other = new AttestationKeyRing([{ kid: "pool-1", pem: generateAttestationKeyPem() }]);
    const forged = other.signStatement(statement).jws;
    expect(checkStatementMessage(AGENT, message(forged, statementText(statement)), jwks).problems).toEqual([
      expect.stringMatching(/not signed by key pool-1/),
    ]);
    expect(checkStatementMessage("b".repeat(64), message(jws, statementText(statement)), jwks).valid).toBe(false);
  });
});
