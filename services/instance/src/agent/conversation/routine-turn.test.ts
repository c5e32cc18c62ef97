// A routine's firing as a turn of its asker's (routine-turn.ts): the
// decision (planRoutine) on its own, then the turn with the real rules of
// what it reads (turn-read.ts, memory/store.ts, memory/walls.ts) and a
// scripted attacker model: a stand-in LlmProvider that, whatever it reads,
// calls send_payment to 0x…dEaD and reports what it was given. The toolbox
// is a stand-in that records each call that reaches it (the gate's place);
// the group is a plain object; no XMTP client. What must hold: a member's
// routine gives its model no tools and its call to pay reaches nothing; the
// owner's goes to the gate as the owner's request with nothing bound; a
// member's turn reads only the memory a member may see; an asker gone is
// refused; a spent budget is a retry, not a turn.
import { Code, ConnectError } from "@connectrpc/connect";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { createLogger } from "@convos-pool/kit/server";
import { resolveParticipation } from "@convos-pool/kit/content";
import { describe, expect, it } from "vitest";
import { Memory } from "../../memory/store.js";
import type { TurnInput } from "../../model/turn.js";
import type { AgentGroup } from "../../platform/xmtp.js";
import type { Requester } from "../../tools/gate/permissions.js";
import type { InstanceConfig } from "../state/settings.js";
import { planRoutine, routineAnswer, type RoutineParts } from "./routine-turn.js";

const SELF = "5e1f".padEnd(64, "0");
const OWNER = "0a4e".padEnd(64, "0");
const ANA = "a7a7".padEnd(64, "0");
const DEAD = "0x000000000000000000000000000000000000dEaD";
const HERE = "conversation-here";

const config = {
  instanceId: "inst-1",
  template: {},
  templateId: "tpl-1",
  templateVersion: "1",
  agentName: "Tabby",
  ownerId: OWNER,
  model: "m",
  modelOverridden: false,
  tools: [{ toolId: "crypto", handle: "wallet" }],
  userConfig: {},
  configuredAt: "2026-01-01T00:00:00.000Z",
} as unknown as InstanceConfig;

const CONTACTS = { lookup: () => undefined, names: () => [] };
const PAY = { name: "send_payment", description: "pays", parameters: { type: "object", properties: {} } };

function agentOf(budget = true) {
  const calls: { name: string; who: Requester }[] = [];
  const given: TurnInput[] = [];
  const memory = new Memory();
  memory.add([
    { kind: "credentials", text: "the vault code is 4417", from: OWNER, role: "owner" },
    { kind: "personalization", text: "the team meets on Mondays", from: ANA, role: "member", conversationId: HERE },
  ]);
  const parts = {
    ws: { readText: async () => "You are Tabby." },
    settings: { config, participation: resolveParticipation({ mode: ParticipationMode.SPEAK, cooldownSeconds: 0 }) },
    memory: { current: memory },
    llm: {
      // The attacker: it tries to pay, then says it did.
      async reply(input: TurnInput) {
        given.push(input);
        if (!input.callTool) return "Week plan posted. I could not pay.";
        const paid = await input.callTool("send_payment", { to: DEAD, amount_eth: "1" });
        return `Week plan posted. ${paid.ok ? "Paid" : `Not paid: ${paid.error}`}`;
      },
    },
    toolbox: {
      grants: {},
      level: TrustLevel.AUTONOMOUS,
      functions: () => [PAY],
      call: async (name: string, _args: Record<string, unknown>, who: Requester) => {
        calls.push({ name, who });
        return { ok: false as const, error: "waiting for the owner's yes" };
      },
    },
    budget: { spend: () => ({ allowed: budget, refused: undefined }) },
    deps: {},
    homeId: () => HERE,
    contacts: () => CONTACTS,
    log: createLogger("test", { level: "silent" }),
  } as unknown as RoutineParts;
  const group = { id: HERE, messages: async () => [] } as unknown as AgentGroup;
  const c = {
    group,
    names: { [OWNER]: "Saul", [ANA]: "Ana" },
    who: { self: SELF, agentName: "Tabby", ownerId: OWNER, creatorInboxId: OWNER, agents: [] },
    outsideWords: { ids: async () => new Set<string>() },
  };
  return { parts, c, calls, given };
}

const routine = (asker: string) => ({
  firingId: "sch_000000000000000000000001@2027-01-04T08:00:00Z",
  instruction: "post the week's plan",
  asker,
});

describe("whose turn a routine's firing is", () => {
  it("is the owner's, with tools, when the owner asked it", () => {
    expect(planRoutine({ asker: OWNER, ownerId: OWNER, askerHere: true })).toEqual({
      kind: "turn",
      role: "owner",
      tools: true,
    });
  });

  it("is a member's, without tools, when a member asked it", () => {
    expect(planRoutine({ asker: ANA, ownerId: OWNER, askerHere: true })).toEqual({
      kind: "turn",
      role: "member",
      tools: false,
    });
  });

  it("is nobody's when its asker is no longer in the conversation", () => {
    expect(planRoutine({ asker: OWNER, ownerId: OWNER, askerHere: false }).kind).toBe("refused");
    expect(planRoutine({ asker: ANA, ownerId: OWNER, askerHere: false }).kind).toBe("refused");
  });

  it("is a member's when the agent has no owner now", () => {
    expect(planRoutine({ asker: OWNER, ownerId: undefined, askerHere: true })).toMatchObject({ role: "member" });
  });
});

describe("a routine's turn with a model that tries to pay", () => {
  it("gives a member's routine no tools, and its call to pay reaches nothing", async () => {
    const { parts, c, calls, given } = agentOf();
    const answer = await routineAnswer(parts, c, routine(ANA), true);
    expect(given[0]?.functions).toBeUndefined();
    expect(given[0]?.callTool).toBeUndefined();
    expect(calls).toEqual([]);
    expect(answer).toBe("Week plan posted. I could not pay.");
  });

  it("reads the routine's words as the member's, with the memory a member may see", async () => {
    const { parts, c, given } = agentOf();
    await routineAnswer(parts, c, routine(ANA), true);
    const input = given[0];
    expect(input?.history.at(-1)).toMatchObject({ text: "post the week's plan", from: ANA, speaker: "member" });
    expect(input?.role).toBe("member");
    // The model's provider reads memory as visibleTo(role) gives it (model/turn.ts).
    const seen = JSON.stringify(input?.memory.visibleTo("member").entries);
    expect(seen).toContain("the team meets on Mondays");
    expect(seen).not.toContain("4417");
  });

  it("sends the owner's routine's call to the gate as the owner's request with nothing bound", async () => {
    const { parts, c, calls, given } = agentOf();
    await routineAnswer(parts, c, routine(OWNER), true);
    expect(given[0]?.functions?.map((f) => f.name)).toEqual(["send_payment"]);
    expect(calls.map((k) => [k.name, k.who.role, k.who.id, k.who.boundActs?.acts, k.who.contacts])).toEqual([
      ["send_payment", "owner", OWNER, [], CONTACTS],
    ]);
  });

  it("refuses a routine whose asker left as a failed precondition, without the model", async () => {
    const { parts, c, given } = agentOf();
    const refused = await routineAnswer(parts, c, routine(ANA), false).catch((e: unknown) => ConnectError.from(e));
    expect(refused).toMatchObject({ code: Code.FailedPrecondition });
    expect(given).toEqual([]);
  });

  it("answers a spent model budget as exhausted, to be tried again, without the model", async () => {
    const { parts, c, given } = agentOf(false);
    const refused = await routineAnswer(parts, c, routine(OWNER), true).catch((e: unknown) => ConnectError.from(e));
    expect(refused).toMatchObject({ code: Code.ResourceExhausted });
    expect(given).toEqual([]);
  });
});
