// What a turn reads, decided in one call as it begins (turn-read.ts
// readTurn): who started the turn, its conversation's memory within the
// walls and its recent lines, the lines masked for its starter, the memory
// they may see, where each piece came from, the act chooser's call and the
// model's input.
// In memory: the real rules (policy.ts, turn-origins.ts, choosing.ts,
// memory/walls.ts, memory/store.ts, walls/views.ts, tools/gate/permissions.ts);
// messages are plain objects, no XMTP client, no model.
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { resolveParticipation } from "@convos-pool/kit/content";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { describe, expect, it } from "vitest";
import { Memory, withCredentialsMasked } from "../../memory/store.js";
import { memoryIn } from "../../memory/walls.js";
import { readerOf } from "../../tools/gate/permissions.js";
import { linesFor } from "../../walls/views.js";
import type { AgentMessage, TextMessage } from "../../platform/xmtp.js";
import type { InstanceConfig } from "../state/settings.js";
import { chooserCall } from "./choosing.js";
import { historyLines, turnInput, type WhoIsWho } from "./policy.js";
import { turnOrigins } from "./turn-origins.js";
import { readTurn, type TurnAsked } from "./turn-read.js";

const SELF = "5e1f".padEnd(64, "0");
const OWNER = "0a4e".padEnd(64, "0");
const ANA = "a7a7".padEnd(64, "0");
const HERE = "conversation-here";
const THERE = "conversation-there";
const who: WhoIsWho = { self: SELF, agentName: "Tabby", ownerId: OWNER, creatorInboxId: OWNER, agents: [] };
const names = { [OWNER]: "Saul", [ANA]: "Ana" };
const walls = { ownerId: OWNER, home: HERE };

const config: InstanceConfig = {
  instanceId: "inst-1",
  template: {},
  templateId: "tpl-1",
  templateVersion: "1",
  agentName: "Tabby",
  ownerId: OWNER,
  model: "gpt-oss-20b",
  modelOverridden: false,
  tools: [{ toolId: "sms", handle: "+15550100" }] as InstanceConfig["tools"],
  userConfig: { city: "Lyon" },
  configuredAt: "2026-01-01T00:00:00.000Z",
};

const text = (id: string, senderInboxId: string, content: string, at: number): TextMessage =>
  ({
    id,
    senderInboxId,
    sentAtNs: BigInt(at) * 1_000_000_000n,
    contentType: { authorityId: "xmtp.org", typeId: "text" },
    content,
  }) as unknown as TextMessage;

function memory(): Memory {
  const m = new Memory();
  m.add([
    { kind: "personalization", text: "Saul is vegetarian", from: OWNER, role: "owner", conversationId: HERE },
    { kind: "credentials", text: "the booking line is +15550101234", from: OWNER, role: "owner" },
    { kind: "personalization", text: "Bea likes jazz", from: ANA, role: "member", conversationId: THERE },
  ]);
  return m;
}

const recent: AgentMessage[] = [
  text("1", OWNER, "call the booking line +15550101234", 1),
  text("2", SELF, "Done.", 2),
  text("3", ANA, "Tabby, text Bea that we are late", 3),
  text("4", OWNER, "later words", 5),
];

describe("what a turn reads and is given (readTurn)", () => {
  const whole = memory();
  // The lines up to the message the turn answers, as the model reads them (policy.ts).
  const history = historyLines(
    who,
    names,
    recent.slice(0, 3).map((m) => ({
      id: m.id,
      sentAtNs: m.sentAtNs,
      senderInboxId: m.senderInboxId,
      text: m.content as string,
    })),
  );
  const callTool = () => Promise.resolve({ ok: true as const, result: "" });
  const asked = (over: Partial<TurnAsked>): TurnAsked => ({
    config,
    identity: "# Tabby",
    conversationId: HERE,
    role: "member",
    memory: whole,
    walls,
    who,
    names,
    recent,
    m: recent[2] as TextMessage,
    outside: new Set(),
    answersOutsiders: false,
    level: TrustLevel.ADVISOR,
    participation: resolveParticipation({ mode: ParticipationMode.SPEAK, cooldownSeconds: 0 }),
    functions: [],
    callTool,
    limits: { messageTokens: 1000, historyTokens: 3000, memoryTokens: 3000 },
    ...over,
  });

  it("reads its memory within the walls and the recent lines up to the message it answers, ending with it", () => {
    const r = readTurn(asked({ role: "owner", m: text("5", OWNER, "Tabby, and book it", 4) }));
    expect(r.read.memory.map((e) => e.text)).not.toContain("Bea likes jazz");
    expect(r.read.memory).toEqual(memoryIn(whole, HERE, walls).entries);
    expect(r.history.map((h) => h.text)).toEqual([
      "call the booking line +15550101234",
      "Done.",
      "Tabby, text Bea that we are late",
      "Tabby, and book it",
    ]);
    expect(r.history[1]).toMatchObject({ role: "assistant" });
  });

  it("is what the rules give one after the other: who, the reader's lines masked, the memory its starter may see, the origins, the chooser's call, the input", () => {
    const t = asked({});
    const r = readTurn(t);
    const walled = memoryIn(whole, HERE, walls);
    expect(r.who).toMatchObject({ role: "member", id: ANA, name: "Ana", conversationId: HERE });
    const reader = readerOf({ role: "member", id: ANA, name: "Ana" }, HERE);
    expect(r.reader).toEqual(reader);
    const lines = withCredentialsMasked(linesFor(history, HERE, reader), "member", walled);
    expect(r.history).toEqual(lines);
    expect(r.read).toEqual({
      history: lines,
      memory: walled.visibleTo("member").entries,
      identity: "# Tabby",
      userConfig: { city: "Lyon" },
      names,
      inboundText: undefined,
    });
    expect(r.who.origins).toEqual(turnOrigins(r.read));
    expect(r.chooser).toEqual(
      chooserCall({ ...r.read, model: config.model, who: r.who, tools: ["sms"], contacts: undefined }),
    );
    const { callTool: given, ...input } = r.input;
    const { callTool: wanted, ...expected } = turnInput({
      config,
      identity: "# Tabby",
      level: TrustLevel.ADVISOR,
      participation: t.participation,
      memory: walled,
      history: lines,
      functions: [],
      callTool,
      role: "member",
      limits: t.limits,
      reader,
    });
    expect(input).toEqual(expected);
    expect(given).toBe(wanted);
  });

  it("masks a credential's line and keeps credentials out of a member's memory; the owner reads both", () => {
    const member = readTurn(asked({}));
    expect(member.history[0]?.text).not.toContain("+15550101234");
    expect(member.read.memory.map((e) => e.kind)).not.toContain("credentials");
    const owner = readTurn(asked({ role: "owner", m: text("5", OWNER, "Tabby, yes", 4) }));
    expect(owner.who).toMatchObject({ role: "owner", id: OWNER });
    expect(owner.history[0]?.text).toContain("+15550101234");
    expect(owner.read.memory.map((e) => e.kind)).toContain("credentials");
  });

  it("reads the owner's words without the name they are said to, for a yes to an open request; a member's not at all", () => {
    expect(readTurn(asked({ role: "owner", m: text("5", OWNER, "Tabby, yes", 4) })).said).toBe("yes");
    expect(readTurn(asked({})).said).toBeUndefined();
  });

  it("gives a text to its number to an outsider's turn, answered only when its owner lets it", () => {
    const inboundText = { from: "+15550199", to: "+15550100", text: "who is this?" };
    const r = readTurn(asked({ role: "outsider", m: undefined, inboundText, answersOutsiders: true }));
    expect(r.who).toMatchObject({ role: "outsider", id: "+15550199", name: "+15550199" });
    expect(r.read.inboundText).toEqual(inboundText);
    expect(r.input.inboundText).toEqual({ ...inboundText, answer: true });
    expect(r.read.memory).toEqual([]);
  });
});
