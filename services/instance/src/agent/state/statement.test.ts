// The agent's side of its statement (statement.ts): it takes only a
// statement the key handed beside it signed, about itself, and posts each
// one once; each other conversation's statement is taken only for that
// conversation and posted there alone, as the pool's statement message (its
// words, and the signed statement beside them). Real: the pool's key ring
// and checks; a Map stands in for the workspace, an array for each
// conversation, and a function for who is named what there.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AttestRequestSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { AgentStatementSchema } from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import { AttestationKeyRing, generateAttestationKeyPem } from "@convos-pool/kit/signing";
import { STATEMENT_SIGNED_PREFIX, statementJwsIn, type StatementContent } from "@convos-pool/kit/content";
import {
  checkConversationStatements,
  checkStatementRequest,
  NO_STATEMENT_YET,
  postStatement,
  STATEMENT_FILE,
  statementAnswer,
  statementFileOf,
  homeStatementAlsoIn,
} from "./statement.js";

const SELF = { inboxId: "a".repeat(64), instanceId: "inst-1" };
const ring = new AttestationKeyRing([{ kid: "pool-1", pem: generateAttestationKeyPem() }]);
const [KEY] = ring.publicKeys();

/** Its home, and two conversations it was added to (XMTP group ids are hex). */
const HOME = "0".repeat(32);
const A = "a".repeat(32);
const B = "b".repeat(32);

function signedStatement(
  over: { inboxId?: string; instanceId?: string; ring?: AttestationKeyRing; conversationId?: string } = {},
) {
  return (over.ring ?? ring).signStatement(
    create(AgentStatementSchema, {
      inboxId: over.inboxId ?? SELF.inboxId,
      instanceId: over.instanceId ?? SELF.instanceId,
      conversationId: over.conversationId ?? HOME,
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
}

function request(over: Parameters<typeof signedStatement>[0] = {}) {
  return create(AttestRequestSchema, { key: { kid: KEY!.kid, x: KEY!.x }, statement: signedStatement(over) });
}

/** An Attest call with only other conversations' statements: [conversation_id, the conversation it is about]. */
function others(...entries: [string, string][]) {
  return create(AttestRequestSchema, {
    key: { kid: KEY!.kid, x: KEY!.x },
    conversationStatements: entries.map(([conversationId, about]) => ({
      conversationId,
      statement: signedStatement({ conversationId: about }),
    })),
  });
}

/** The owner is "Saul" at home and in A; B knows no name for them. */
const OWNER = "o".repeat(64);
const nameIn = (conversationId: string, inboxId: string) =>
  inboxId === OWNER && conversationId !== B ? "Saul" : undefined;
const IN = { ...SELF, home: HOME, nameIn };
const isIn = (id: string) => [HOME, A, B].includes(id);

function workspace() {
  const files = new Map<string, unknown>();
  return {
    readJson: async <T>(f: string) => files.get(f) as T | undefined,
    writeJson: async (f: string, v: unknown) => void files.set(f, v),
  };
}

describe("checkStatementRequest", () => {
  it("takes the pool's statement about this agent: the signed part, and words without it that name the owner as the conversation knows them", () => {
    const kept = checkStatementRequest(request(), IN);
    expect(kept?.text).toContain("What I may do here (statement 1");
    expect(kept?.text).toContain("- Owner: Saul\n");
    expect(kept?.jws.split(".")).toHaveLength(3);
    expect(kept?.text).not.toContain(kept!.jws);
    expect(statementJwsIn(kept!.text)).toBeUndefined();
  });

  it("refuses one about another agent or instance, and one another key signed", () => {
    expect(() => checkStatementRequest(request({ inboxId: "b".repeat(64) }), IN)).toThrow(/statement/);
    expect(() => checkStatementRequest(request({ instanceId: "inst-2" }), IN)).toThrow(/names instance inst-2/);
    const other = new AttestationKeyRing([{ kid: "pool-1", pem: generateAttestationKeyPem() }]);
    expect(() => checkStatementRequest(request({ ring: other }), IN)).toThrow(/not signed by key pool-1/);
  });

  it("has nothing to take from a call without a statement", () => {
    expect(checkStatementRequest(create(AttestRequestSchema, {}), IN)).toBeUndefined();
  });

  it("refuses the home's statement when it is about another conversation, or about none, naming `statement`, as it refuses the others'", () => {
    expect(() => checkStatementRequest(request({ conversationId: A }), IN)).toThrow(
      /\] statement: is about conversation "a+", not its home 0+$/,
    );
    expect(() => checkStatementRequest(request({ conversationId: "" }), IN)).toThrow(
      /\] statement: is about conversation "", not its home 0+$/,
    );
    // An agent with no home has no conversation the pool's statement could be about.
    expect(() => checkStatementRequest(request(), { ...SELF, home: undefined })).toThrow(/\] statement: .*no home/);
  });
});

describe("postStatement", () => {
  it("posts a statement once, and answers with it after", async () => {
    const ws = workspace();
    const said: StatementContent[] = [];
    const kept = checkStatementRequest(request(), IN)!;
    expect(await statementAnswer(ws)).toBe(NO_STATEMENT_YET);
    expect(await postStatement(ws, kept, async (t) => said.push(t))).toBe(true);
    expect(await postStatement(ws, kept, async (t) => said.push(t))).toBe(false);
    expect(said).toEqual([{ jws: kept.jws, text: kept.text }]);
    expect(await statementAnswer(ws)).toBe(kept.text);
  });

  it("answers with the words alone of a statement kept before it had a message type of its own, whose text carried the signature", async () => {
    const ws = workspace();
    const kept = checkStatementRequest(request(), IN)!;
    await ws.writeJson(STATEMENT_FILE, { jws: kept.jws, text: `${kept.text}\n${STATEMENT_SIGNED_PREFIX}${kept.jws}` });
    expect(await statementAnswer(ws)).toBe(kept.text);
  });
});

describe("checkConversationStatements", () => {
  it("takes each other conversation's statement, about that conversation, for that conversation", () => {
    const taken = checkConversationStatements(others([A, A], [B, B]), IN, isIn);
    expect(taken.map((t) => t.conversationId)).toEqual([A, B]);
    // Each names the owner as its own conversation knows them: B knows no name, so a short id.
    expect(taken[0]!.kept.text).toContain("- Owner: Saul\n");
    expect(taken[1]!.kept.text).toContain(`- Owner: ${OWNER.slice(0, 8)}…\n`);
    expect(checkConversationStatements(create(AttestRequestSchema, {}), IN, isIn)).toEqual([]);
  });

  it("refuses, naming the field, one for a conversation it is not in, the home, one named twice, and B's statement handed as A's", () => {
    const c = "c".repeat(32);
    expect(() => checkConversationStatements(others([c, c]), IN, isIn)).toThrow(
      /conversation_statements\[0\]\.conversation_id.*not in/,
    );
    expect(() => checkConversationStatements(others([HOME, HOME]), IN, isIn)).toThrow(
      /conversation_statements\[0\]\.conversation_id.*the home/,
    );
    expect(() => checkConversationStatements(others([A, A], [A, A]), IN, isIn)).toThrow(
      /conversation_statements\[1\]\.conversation_id.*twice/,
    );
    expect(() => checkConversationStatements(others([A, B]), IN, isIn)).toThrow(
      /conversation_statements\[0\]\.statement.*is about conversation "b+", not a+/,
    );
  });

  it("refuses one about another instance, or that another key signed, as it refuses the home's", () => {
    const other = new AttestationKeyRing([{ kid: "pool-1", pem: generateAttestationKeyPem() }]);
    const req = (over: Parameters<typeof signedStatement>[0]) =>
      create(AttestRequestSchema, {
        key: { kid: KEY!.kid, x: KEY!.x },
        conversationStatements: [{ conversationId: A, statement: signedStatement({ conversationId: A, ...over }) }],
      });
    expect(() => checkConversationStatements(req({ instanceId: "inst-2" }), IN, isIn)).toThrow(
      /conversation_statements\[0\]\.statement.*names instance inst-2/,
    );
    expect(() => checkConversationStatements(req({ ring: other }), IN, isIn)).toThrow(/not signed by key pool-1/);
    const keyless = create(AttestRequestSchema, { conversationStatements: [{ conversationId: A, statement: "x" }] });
    expect(() => checkConversationStatements(keyless, IN, isIn)).toThrow(/key/);
  });
});

describe("postStatement in several conversations", () => {
  it("posts B's statement in B only, keeps it in B's folder, and answers in A and at home with theirs", async () => {
    const ws = workspace();
    const said = new Map<string, StatementContent[]>([
      [HOME, []],
      [A, []],
      [B, []],
    ]);
    const sayIn = (id: string) => async (t: StatementContent) => said.get(id)!.push(t);
    const home = checkStatementRequest(request(), IN);
    const [a, b] = checkConversationStatements(others([A, A], [B, B]), IN, isIn);
    expect(await postStatement(ws, home!, sayIn(HOME))).toBe(true);
    for (const t of [a!, b!]) {
      expect(await postStatement(ws, t.kept, sayIn(t.conversationId), statementFileOf(t.conversationId, HOME))).toBe(
        true,
      );
    }
    // Again: nothing posted anywhere.
    expect(await postStatement(ws, b!.kept, sayIn(B), statementFileOf(B, HOME))).toBe(false);
    expect(said.get(B)?.map((m) => m.jws)).toEqual([b!.kept.jws]);
    expect(said.get(A)?.map((m) => m.jws)).toEqual([a!.kept.jws]);
    expect(said.get(HOME)?.map((m) => m.jws)).toEqual([home!.jws]);
    expect(statementFileOf(B, HOME)).toBe(`conversations/${B}/statement.json`);
    expect(statementFileOf(HOME, HOME)).toBe(STATEMENT_FILE);
    expect(await statementAnswer(ws, statementFileOf(B, HOME))).toBe(b!.kept.text);
    expect(await statementAnswer(ws)).toBe(home!.text);
  });
});

describe("postStatement after the home moved", () => {
  it("does not post again in the new home the statement it posted there before it was the home, and answers with it", async () => {
    const ws = workspace();
    const said: string[] = [];
    const send = async (m: StatementContent) => said.push(m.jws);
    const [b] = checkConversationStatements(others([B, B]), IN, isIn);
    expect(await postStatement(ws, b!.kept, send, statementFileOf(B, HOME))).toBe(true);
    // The home left, B is the home now: the pool hands B's last as the home's.
    expect(await postStatement(ws, b!.kept, send, STATEMENT_FILE, homeStatementAlsoIn(B))).toBe(false);
    expect(said).toEqual([b!.kept.jws]);
    expect(await statementAnswer(ws)).toBe(b!.kept.text);
    // A new one there is posted.
    const next = checkStatementRequest(request({ conversationId: B }), { ...SELF, home: B })!;
    expect(await postStatement(ws, next, send, STATEMENT_FILE, homeStatementAlsoIn(B))).toBe(true);
    expect(said).toEqual([b!.kept.jws, next.jws]);
  });
});
