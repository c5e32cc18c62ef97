// What changed between two statements of what an agent may do, in words,
// and the text the agent posts: pure, in memory. Nothing stands in.
import { create } from "@bufbuild/protobuf";
import {
  ApprovalPlace,
  Grant,
  OutsiderReply,
  PermissionsSchema,
  SpendLimitKind,
  type Permissions,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConnectionDeclarationSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  AgentStatementSchema,
  StatementToolSchema,
  type AgentStatement,
} from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import { DEFAULT_PERMISSION_VALUES, type ResolvedPermissions } from "./permissions.js";
import { asksWhatItMayDo, statementChanges, statementJwsIn, statementText } from "./statement.js";

const tool = (kind: string, handle: string) => create(StatementToolSchema, { kind, handle });
const perms = (p: Partial<ResolvedPermissions> = {}): Permissions =>
  create(PermissionsSchema, { ...DEFAULT_PERMISSION_VALUES, ...p });

function facts(over: Partial<Omit<AgentStatement, "$typeName" | "$unknown">> = {}): AgentStatement {
  return create(AgentStatementSchema, {
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
    tools: [tool("phone", "+15550001111")],
    connections: [],
    participation: "auto",
    permissions: perms(),
    ...over,
  });
}

describe("statementChanges", () => {
  it("says nothing changed between a statement and itself", () => {
    expect(statementChanges(facts(), facts())).toEqual([]);
  });

  it("says the owner raised trust from L2 to L4, with the limit set", () => {
    expect(statementChanges(facts(), facts({ trustLevel: 4, dailySpendLimitWei: "50000000000000000" }))).toEqual([
      "the owner raised trust from L2 to L4",
      "the owner set a daily spending limit of 0.05 ETH",
    ]);
  });

  it("says a daily limit the owner confirmed in Convos is confirmed there, not signed, and says so when a signature replaces it", () => {
    const confirmed = {
      dailySpendLimitWei: "10000000000000000",
      dailySpendLimitKind: SpendLimitKind.CONFIRMED_IN_CONVOS,
    };
    expect(statementChanges(facts(), facts(confirmed))).toEqual([
      "the owner set a daily spending limit of 0.01 ETH, confirmed in Convos (not signed)",
    ]);
    expect(
      statementChanges(facts(confirmed), facts({ ...confirmed, dailySpendLimitKind: SpendLimitKind.UNSPECIFIED })),
    ).toEqual(["the owner signed the daily spending limit of 0.01 ETH"]);
  });

  it("says the owner lowered trust", () => {
    expect(statementChanges(facts({ trustLevel: 3 }), facts({ trustLevel: 1 }))).toEqual([
      "the owner lowered trust from L3 to L1",
    ]);
  });

  it("says a trust level a new version lowered as the version's, not the owner's", () => {
    expect(statementChanges(facts({ trustLevel: 4 }), facts({ templateVersion: 8, trustLevel: 2 }))).toEqual([
      "it was updated from version 7 to version 8",
      "with version 8, trust went from L4 to L2",
    ]);
  });

  it("says a version that adds a wallet as the version's", () => {
    const next = facts({ templateVersion: 8, tools: [tool("phone", "+15550001111"), tool("wallet", "0xabc")] });
    expect(statementChanges(facts(), next)).toEqual(["version 8 adds a wallet (0xabc)"]);
  });

  it("says a plain version update when no tool came or went", () => {
    expect(statementChanges(facts(), facts({ templateVersion: 8 }))).toEqual([
      "it was updated from version 7 to version 8",
    ]);
  });

  it("says a phone number was removed, without a new version", () => {
    expect(statementChanges(facts(), facts({ tools: [] }))).toEqual(["a phone number was removed (+15550001111)"]);
  });

  it("says a new owner, a new participation and a connection a version adds", () => {
    const calendar = create(ConnectionDeclarationSchema, {
      kind: "calendar",
      capabilities: ["read"],
      reason: "to plan around your week",
    });
    const next = facts({
      ownerId: "n".repeat(64),
      templateVersion: 9,
      connections: [calendar],
      participation: "mention",
    });
    expect(statementChanges(facts(), next)).toEqual([
      `the agent passed from owner ${"o".repeat(64)} to ${"n".repeat(64)}`,
      "version 9 adds the Calendar connection (read)",
      "the owner changed when it speaks from auto to mention",
    ]);
  });

  it("says the owner's new permissions, each field on its own", () => {
    expect(
      statementChanges(
        facts(),
        facts({
          permissions: perms({
            memberSms: Grant.ALLOW,
            memberCrypto: Grant.REFUSE,
            outsiderReply: OutsiderReply.ASK,
            approvals: ApprovalPlace.DIRECT,
          }),
        }),
      ),
    ).toEqual([
      "the owner now lets members have it send texts without asking",
      "the owner no longer lets members have it move money",
      "texts from outside are now passed on; one text back to the sender if the owner approves",
      "approvals are now asked of the owner privately",
    ]);
    expect(
      statementChanges(facts({ permissions: perms({ memberEmail: Grant.REFUSE }) }), facts({ permissions: perms() })),
    ).toEqual(["members' requests to send mail now ask the owner first"]);
  });

  it("says only that permissions are stated now, after a statement made before the pool stated them", () => {
    const old = facts({ permissions: undefined });
    expect(statementChanges(old, facts({ permissions: perms({ memberSms: Grant.ALLOW }) }))).toEqual([
      "who may ask it for what is now stated",
    ]);
    expect(statementChanges(old, old)).toEqual([]);
  });

  it("takes an unset field as its default: the same permissions say nothing, however they are written", () => {
    const grant = fc.constantFrom(Grant.UNSPECIFIED, Grant.ALLOW, Grant.ASK, Grant.REFUSE);
    const arb = fc.record({
      memberSms: grant,
      memberEmail: grant,
      memberCrypto: grant,
      outsiderReply: fc.constantFrom(
        OutsiderReply.UNSPECIFIED,
        OutsiderReply.NONE,
        OutsiderReply.ASK,
        OutsiderReply.ANSWER,
      ),
      approvals: fc.constantFrom(ApprovalPlace.UNSPECIFIED, ApprovalPlace.CONVERSATION, ApprovalPlace.DIRECT),
    });
    const resolved = (p: ResolvedPermissions) =>
      JSON.stringify(Object.entries(p).map(([k, v]) => v || DEFAULT_PERMISSION_VALUES[k as keyof ResolvedPermissions]));
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        const x = facts({ permissions: create(PermissionsSchema, a) });
        const y = facts({ permissions: create(PermissionsSchema, b) });
        expect(statementChanges(x, x)).toEqual([]);
        expect(statementChanges(x, y).length === 0).toBe(resolved(a) === resolved(b));
      }),
    );
  });

  it("says any single change of a permission in one line, whatever the tools it holds", () => {
    const field = fc.constantFrom(...(Object.keys(DEFAULT_PERMISSION_VALUES) as (keyof ResolvedPermissions)[]));
    const values: Record<keyof ResolvedPermissions, number[]> = {
      memberSms: [Grant.ALLOW, Grant.ASK, Grant.REFUSE],
      memberEmail: [Grant.ALLOW, Grant.ASK, Grant.REFUSE],
      memberCrypto: [Grant.ALLOW, Grant.ASK, Grant.REFUSE],
      outsiderReply: [OutsiderReply.NONE, OutsiderReply.ASK, OutsiderReply.ANSWER],
      approvals: [ApprovalPlace.CONVERSATION, ApprovalPlace.DIRECT],
    };
    const arb = field.chain((f) =>
      fc.record({
        f: fc.constant(f),
        from: fc.constantFrom(...values[f]),
        to: fc.constantFrom(...values[f]),
        tools: fc.uniqueArray(fc.constantFrom("wallet", "phone", "mailbox"), { maxLength: 3 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ f, from, to, tools }) => {
        fc.pre(from !== to);
        const held = tools.map((k) => tool(k, `h-${k}`));
        const said = statementChanges(
          facts({ tools: held, permissions: perms({ [f]: from }) }),
          facts({ tools: held, permissions: perms({ [f]: to }) }),
        );
        expect(said).toHaveLength(1);
        expect(said[0]).toMatch(/members|outside|approvals/);
      }),
    );
  });

  it("is empty exactly when the stated facts are equal (any trust, limit, version, tools, mode)", () => {
    const arb = fc.record({
      trustLevel: fc.integer({ min: 0, max: 4 }),
      dailySpendLimitWei: fc.constantFrom("", "1000", "50000000000000000"),
      templateVersion: fc.integer({ min: 1, max: 20 }),
      participation: fc.constantFrom("auto", "speak", "mention", "paused"),
      tools: fc.uniqueArray(fc.constantFrom("wallet", "phone", "mailbox"), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        const x = facts({ ...a, tools: a.tools.map((k) => tool(k, `h-${k}`)) });
        const y = facts({ ...b, tools: b.tools.map((k) => tool(k, `h-${k}`)) });
        // Tools are a set: their order says nothing.
        const key = (r: typeof a) => JSON.stringify({ ...r, tools: [...r.tools].sort() });
        const same = key(a) === key(b);
        expect(statementChanges(x, y).length === 0).toBe(same);
        expect(statementChanges(x, x)).toEqual([]);
      }),
    );
  });
});

describe("statementText", () => {
  it("lists what it may do and what changed, in words, with no signature in them", () => {
    const s = facts({
      trustLevel: 4,
      dailySpendLimitWei: "50000000000000000",
      sequence: 2,
      issuedAt: "2026-11-28T12:00:00.000Z",
    });
    s.changes = ["the owner raised trust from L2 to L4"];
    const text = statementText(s, { ownerName: "Saul" });
    expect(text).toContain("What I may do here (statement 2, 2026-11-28):");
    expect(text).toContain(
      "- Trust: L4 (uses every tool freely; moves money within its daily spending limit), up to 0.05 ETH a day",
    );
    expect(text).toContain("- Tools: phone number +15550001111");
    expect(text.split("\n").at(-1)).toBe("Changed: the owner raised trust from L2 to L4.");
    // The signature travels in the message's content (statement-codec.ts), not in what members read.
    expect(text).not.toMatch(/Signed by|eyJ/);
    expect(statementJwsIn(text)).toBeUndefined();
  });

  it("says a daily limit confirmed in Convos was not signed", () => {
    const s = facts({
      trustLevel: 3,
      dailySpendLimitWei: "10000000000000000",
      dailySpendLimitKind: SpendLimitKind.CONFIRMED_IN_CONVOS,
      sequence: 1,
      issuedAt: "2026-11-28T12:00:00.000Z",
    });
    expect(statementText(s)).toContain(", up to 0.01 ETH a day (confirmed in Convos, not signed)\n");
    expect(statementText({ ...s, dailySpendLimitKind: SpendLimitKind.UNSPECIFIED })).toContain(
      ", up to 0.01 ETH a day\n",
    );
  });

  it("names the owner by the name members see them by, else by a short id, and the template by its version as the store writes it", () => {
    const s = facts({ sequence: 1, issuedAt: "2026-11-28T12:00:00.000Z" });
    const lines = statementText(s, { ownerName: "Saul" }).split("\n");
    expect(lines.slice(1, 3)).toEqual(["- Owner: Saul", "- Template: Trip Planner v7"]);
    expect(statementText(s)).toContain(`- Owner: ${"o".repeat(8)}…\n`);
    expect(statementText(s)).not.toContain("o".repeat(9));
    expect(statementText(s, { ownerName: "" })).toContain(`- Owner: ${"o".repeat(8)}…\n`);
  });

  it("says who may ask for what, in plain words, for the tools it holds only", () => {
    const s = facts({
      tools: [tool("phone", "+15550001111"), tool("wallet", "0xabc")],
      permissions: perms({ memberCrypto: Grant.REFUSE, approvals: ApprovalPlace.DIRECT }),
      sequence: 1,
      issuedAt: "2026-11-28T12:00:00.000Z",
    });
    const lines = statementText(s).split("\n");
    expect(lines.slice(4, 8)).toEqual([
      "- Tools: phone number +15550001111; wallet 0xabc",
      "- Members' requests: texts ask the owner first; payments refused",
      "- Texts from outside: passed on, not answered",
      "- Approvals: asked of the owner privately",
    ]);
    expect(lines.join("\n")).not.toContain("mail");
    // A mailbox alone: its mail, and no texts from outside (outsiders text a number).
    const mailbox = statementText(
      facts({ tools: [tool("mailbox", "a@b.c")], permissions: perms({ memberEmail: Grant.ALLOW }) }),
    );
    expect(mailbox).toContain(
      "- Members' requests: mail allowed\n- Approvals: asked of the owner in this conversation",
    );
    expect(mailbox).not.toContain("Texts from outside");
  });

  it("states no permissions for an agent without tools, nor for a statement made before the pool stated them", () => {
    const none = statementText(facts({ tools: [] }));
    const old = statementText(facts({ permissions: undefined }));
    for (const text of [none, old]) {
      expect(text).not.toMatch(/Members' requests|Texts from outside|Approvals/);
      expect(text).toContain("- Speaks: auto");
    }
  });

  it("finds the signed statement in a text posted the old way, with it on its last line, and none in a text without one", () => {
    expect(statementJwsIn("What I may do here:\nSigned by the pool: aGVhZA.cGF5bG9hZA.c2ln")).toBe(
      "aGVhZA.cGF5bG9hZA.c2ln",
    );
    expect(statementJwsIn("What I may do here: everything")).toBeUndefined();
  });
});

describe("asksWhatItMayDo", () => {
  it.each(["What can you do here?", "@Trip Planner what are you allowed to do", "so what may you do in this group?"])(
    "hears %j",
    (t) => expect(asksWhatItMayDo(t)).toBe(true),
  );
  it.each(["what can you do for me tomorrow", "book a flight", "what did you do here yesterday"])("not %j", (t) =>
    expect(asksWhatItMayDo(t)).toBe(false),
  );
});
