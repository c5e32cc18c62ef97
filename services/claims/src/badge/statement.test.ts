// When the claims service states an agent's facts anew (planStatement):
// pure, with a fixed clock. Nothing stands in.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { StatementToolSchema } from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import { AttestationKeyRing, generateAttestationKeyPem, statementHash } from "@convos-pool/kit/signing";
import type { StatementFacts } from "@convos-pool/kit/content";
import { ConversationTools, ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  conversationFacts,
  lastStatementOf,
  planStatement,
  STATEMENT_REPOST_MS,
  type LastStatement,
} from "./statement.js";

const NOW = Date.parse("2026-11-28T12:00:00.000Z");
const ring = new AttestationKeyRing([{ kid: "pool-1", pem: generateAttestationKeyPem() }], () => NOW);

const FACTS: StatementFacts = {
  poolId: "pool",
  inboxId: "a".repeat(64),
  instanceId: "inst-1",
  conversationId: "conv-1",
  ownerId: "o".repeat(64),
  templateId: "tpl-trip",
  templateVersion: 7,
  agentName: "Trip Planner",
  trustLevel: 2,
  dailySpendLimitWei: "",
  tools: [create(StatementToolSchema, { kind: "mailbox", handle: "trip@mail.local" })],
  connections: [],
  participation: "auto",
};

/** Signs what planStatement asked to sign, and reads it back as the row keeps it. */
function signed(facts: StatementFacts, last: LastStatement | undefined, now: number): LastStatement {
  const plan = planStatement(facts, last, now);
  if (!("sign" in plan)) throw new Error("expected a new statement");
  const kept = lastStatementOf(ring.signStatement(plan.sign).jws);
  if (!kept) throw new Error("unreadable");
  return kept;
}

describe("planStatement", () => {
  it("states a newly claimed agent's facts as statement 1, naming none before", () => {
    const first = signed(FACTS, undefined, NOW);
    expect(first.statement).toMatchObject({
      sequence: 1,
      previous: "",
      changes: [],
      trustLevel: 2,
      issuedAt: "2026-11-28T12:00:00.000Z",
    });
    expect(first.kid).toBe("pool-1");
  });

  it("hands the same statement again while the facts hold and it is under a day old", () => {
    const first = signed(FACTS, undefined, NOW);
    expect(planStatement(FACTS, first, NOW + 12 * 3_600_000)).toEqual({ again: first });
  });

  it("states the same facts again once a day has gone by, naming the last", () => {
    const first = signed(FACTS, undefined, NOW);
    const next = signed(FACTS, first, NOW + STATEMENT_REPOST_MS);
    expect(next.statement).toMatchObject({ sequence: 2, previous: statementHash(first.jws), changes: [] });
  });

  it("states a change at once, naming the last and saying what changed", () => {
    const first = signed(FACTS, undefined, NOW);
    const next = signed({ ...FACTS, trustLevel: 4, dailySpendLimitWei: "1000000000000000000" }, first, NOW + 60_000);
    expect(next.statement).toMatchObject({
      sequence: 2,
      previous: statementHash(first.jws),
      changes: ["the owner raised trust from L2 to L4", "the owner set a daily spending limit of 1 ETH"],
    });
  });

  it("starts a new chain when the kept statement is unreadable", () => {
    expect(lastStatementOf("garbage")).toBeUndefined();
    expect(lastStatementOf(null)).toBeUndefined();
  });
});

describe("conversationFacts", () => {
  it("states another conversation with its own id and participation, the agent's tools unless they are off there", () => {
    const row = { conversation_id: "conv-2", participation: { mode: ParticipationMode.MENTION }, statement: null };
    const shared = conversationFacts(FACTS, { ...row, tools: ConversationTools.SHARED });
    expect(shared.facts).toMatchObject({ conversationId: "conv-2", participation: "mention", tools: FACTS.tools });
    expect(shared.facts.ownerId).toBe(FACTS.ownerId);
    expect(shared.last).toBeUndefined();
    const none = conversationFacts(FACTS, { ...row, tools: ConversationTools.NONE });
    expect(none.facts.tools).toEqual([]);
  });

  it("chains each conversation on its own last statement, not the home's", () => {
    const home = signed(FACTS, undefined, NOW);
    const first = signed(
      conversationFacts(FACTS, { conversation_id: "conv-2", participation: null, tools: 1, statement: null }).facts,
      undefined,
      NOW,
    );
    expect(first).toMatchObject({ statement: { sequence: 1, previous: "", conversationId: "conv-2" } });
    const read = conversationFacts(
      { ...FACTS, trustLevel: 3 },
      { conversation_id: "conv-2", participation: null, tools: 1, statement: first.jws },
    );
    const second = signed(read.facts, read.last, NOW + 1000);
    expect(second.statement).toMatchObject({ sequence: 2, previous: statementHash(first.jws) });
    expect(second.statement.previous).not.toBe(statementHash(home.jws));
  });
});
