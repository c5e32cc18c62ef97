// A firing carried out (firing-run.ts) on a real workspace and the real
// schedules.json (store.ts); the conversation's group and the toolbox are
// stand-ins that record what was sent and called. What must hold: a
// reminder posts once with its firing id in its content, even delivered
// twice (one after the other or at once); an act calls the gate with the
// recipient and amount the agent kept, never the item's words, and says it
// did; a routine is posted once with its firing id, the answer of one turn
// of the asker the agent kept, on the words it kept (the turn itself is a
// stand-in here: routine-turn.test.ts holds it), asked whether that person
// is in the conversation now; a routine with nothing kept takes no turn.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { createLogger } from "@convos-pool/kit/server";
import { afterEach, describe, expect, it } from "vitest";
import { Workspace } from "../../platform/workspace.js";
import type { AgentGroup } from "../../platform/xmtp.js";
import type { Requester } from "../gate/permissions.js";
import type { Firing } from "./firing.js";
import { FIRING_PARAMETER, type FiringParts, isMember, type RoutineAsked, runFiring } from "./firing-run.js";
import { Scheduling } from "./scheduling.js";

const OWNER = "a".repeat(64);
const ANA = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const DEAD = "0x000000000000000000000000000000000000dEaD";
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Sent {
  text: string;
  parameters: Record<string, string>;
}

async function agentOf(answer: { ok: boolean; error?: string } = { ok: true }) {
  const dir = await mkdtemp(join(tmpdir(), "firing-run-"));
  dirs.push(dir);
  const ws = new Workspace(dir, "inst-1");
  await ws.create();
  const sent: Sent[] = [];
  const calls: { name: string; args: Record<string, unknown>; who: Requester }[] = [];
  const routines: { conversationId: string; r: RoutineAsked; askerHere: boolean }[] = [];
  const group = {
    id: "g1",
    async send(content: { content: Uint8Array; parameters: Record<string, string> }) {
      // The post's own turn: a delivery that comes meanwhile must wait for it.
      await new Promise((r) => setTimeout(r, 20));
      sent.push({ text: new TextDecoder().decode(content.content), parameters: content.parameters });
      return `m${sent.length}`;
    },
    sync: async () => ({}),
    members: async () => [{ inboxId: OWNER }],
  } as unknown as AgentGroup;
  const scheduling = new Scheduling("inst-1", undefined, ws, { now: () => Date.now() });
  const parts: FiringParts = {
    id: "inst-1",
    scheduling,
    settings: { config: { ownerId: OWNER } },
    conversations: { get: (id) => (id === "g1" ? { group, names: { [OWNER]: "Olga" } } : undefined) },
    within: (_id, job) => job(),
    toolbox: {
      call: async (name, args, who) => {
        calls.push({ name, args, who });
        return answer;
      },
    },
    log: createLogger("test", { level: "silent" }),
    routine: async (conversationId, r, askerHere) => {
      routines.push({ conversationId, r, askerHere });
      return `The week's plan, as ${r.asker === OWNER ? "Olga" : "someone"} asked: ${r.instruction}.`;
    },
  };
  return { parts, sent, calls, routines, scheduling, ws };
}

const firing = (kind: Firing["item"]["kind"], at = "2027-01-01T08:00:00Z"): Firing => ({
  firingId: `sch_000000000000000000000001@${at}`,
  item: {
    id: "sch_000000000000000000000001",
    kind,
    text: kind === "act" ? `pay ${DEAD} 5 ETH` : "book the table",
    conversationId: "g1",
    askedBy: OWNER,
  },
});

describe("a firing carried out", () => {
  it("posts a reminder once with its firing id in the content, delivered twice one after the other", async () => {
    const { parts, sent } = await agentOf();
    expect(await runFiring(parts, firing("reminder"))).toBe(false);
    expect(await runFiring(parts, firing("reminder"))).toBe(true);
    expect(sent).toEqual([
      {
        text: "Reminder: book the table",
        parameters: expect.objectContaining({ [FIRING_PARAMETER]: firing("reminder").firingId }),
      },
    ]);
  });

  it("posts a reminder once when the same firing is delivered twice at once", async () => {
    const { parts, sent } = await agentOf();
    const answers = await Promise.all([runFiring(parts, firing("reminder")), runFiring(parts, firing("reminder"))]);
    expect(answers.sort()).toEqual([false, true]);
    expect(sent.map((s) => s.text)).toEqual(["Reminder: book the table"]);
  });

  it("keeps the firing id done in schedules.json, so the agent started again answers already done", async () => {
    const { parts, sent, ws } = await agentOf();
    await runFiring(parts, firing("reminder"));
    const again: FiringParts = { ...parts, scheduling: new Scheduling("inst-1", undefined, ws, { now: Date.now }) };
    expect(await runFiring(again, firing("reminder"))).toBe(true);
    expect(await runFiring(again, firing("reminder", "2027-01-02T08:00:00Z"))).toBe(false);
    expect(sent.map((s) => s.text)).toEqual(["Reminder: book the table", "Reminder: book the table"]);
  });

  it("pays the recipient and amount the agent kept through the gate, as the owner's bound request, and says it did", async () => {
    const { parts, sent, calls, scheduling } = await agentOf();
    const store = await scheduling.store();
    await store.keepAct("sch_000000000000000000000001", "g1", {
      act: "pay",
      toolId: "crypto",
      target: ANA,
      amountWei: "10000000000000000",
      name: "Ana",
    });
    expect(await runFiring(parts, firing("act"))).toBe(false);
    expect(
      calls.map((c) => [c.name, c.args, c.who.role, c.who.boundActs?.acts.map((a) => [a.target, a.amountWei])]),
    ).toEqual([["send_payment", { to: ANA, amount_eth: "0.01" }, "owner", [[ANA, 10_000_000_000_000_000n]]]]);
    expect(sent.map((s) => s.text)).toEqual([`As you asked, on schedule: pay Ana (${ANA}) 0.01 ETH.`]);
    expect(await runFiring(parts, firing("act"))).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it("says the gate's refusal of a scheduled act, and pays nothing again on a retry", async () => {
    const { parts, sent, calls, scheduling } = await agentOf({ ok: false, error: "over your daily limit" });
    await (await scheduling.store()).keepAct("sch_000000000000000000000001", "g1", {
      act: "pay",
      toolId: "crypto",
      target: ANA,
      amountWei: "10000000000000000",
    });
    await runFiring(parts, firing("act"));
    await runFiring(parts, firing("act"));
    expect(calls).toHaveLength(1);
    expect(sent.map((s) => s.text)).toEqual(["On schedule, not done: over your daily limit."]);
  });

  it("sends a scheduled text's kept words to its kept recipient through the gate, carrying the firing id, once", async () => {
    const { parts, sent, calls, scheduling } = await agentOf();
    await (await scheduling.store()).keepAct("sch_000000000000000000000001", "g1", {
      act: "text",
      toolId: "sms",
      target: "+15550100000",
      amountWei: "0",
      name: "Ana",
      words: "dinner is at 8",
    });
    await runFiring(parts, firing("act"));
    expect(await runFiring(parts, firing("act"))).toBe(true);
    expect(calls.map((c) => [c.name, c.args, c.who.role, c.who.firing?.id])).toEqual([
      ["send_sms", { to: "+15550100000", text: "dinner is at 8" }, "owner", firing("act").firingId],
    ]);
    expect(sent.map((s) => s.text)).toEqual(["As you asked, on schedule: text Ana (+15550100000): “dinner is at 8”."]);
  });

  it("sends a scheduled mail's kept words, its subject their start, carrying the firing id", async () => {
    const { parts, calls, scheduling } = await agentOf();
    await (await scheduling.store()).keepAct("sch_000000000000000000000001", "g1", {
      act: "mail",
      toolId: "email",
      target: "bob@x.test",
      amountWei: "0",
      words: "rent is due",
    });
    await runFiring(parts, firing("act"));
    expect(calls.map((c) => [c.name, c.args, c.who.firing?.id])).toEqual([
      ["send_email", { to: "bob@x.test", subject: "rent is due", text: "rent is due" }, firing("act").firingId],
    ]);
  });

  it("says a scheduled text kept without words has none to send, calling no tool, once", async () => {
    const { parts, sent, calls, scheduling } = await agentOf();
    await (await scheduling.store()).keepAct("sch_000000000000000000000001", "g1", {
      act: "text",
      toolId: "sms",
      target: "+15550100000",
      amountWei: "0",
    });
    await runFiring(parts, firing("act"));
    expect(await runFiring(parts, firing("act"))).toBe(true);
    expect(calls).toEqual([]);
    expect(sent.map((s) => s.text)).toEqual([
      "On schedule, not done: this scheduled text was kept without words to send; ask for it again with them.",
    ]);
  });

  it("refuses an act with nothing kept for it as a failed precondition, calling no tool", async () => {
    const { parts, calls, sent } = await agentOf();
    const refused = await runFiring(parts, firing("act")).catch((e: unknown) => ConnectError.from(e));
    expect(refused).toMatchObject({ code: Code.FailedPrecondition });
    expect(calls).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("posts a routine's answer from one turn of its asker's once, with its firing id, delivered twice at once and again", async () => {
    const { parts, sent, routines, scheduling } = await agentOf();
    await (await scheduling.store()).keepRoutine("sch_000000000000000000000001", {
      conversationId: "g1",
      asker: OWNER,
      instruction: "post the week's plan",
    });
    const answers = await Promise.all([runFiring(parts, firing("routine")), runFiring(parts, firing("routine"))]);
    expect(answers.sort()).toEqual([false, true]);
    expect(await runFiring(parts, firing("routine"))).toBe(true);
    expect(routines).toEqual([
      {
        conversationId: "g1",
        r: { firingId: firing("routine").firingId, instruction: "post the week's plan", asker: OWNER },
        askerHere: true,
      },
    ]);
    expect(sent).toEqual([
      {
        text: "The week's plan, as Olga asked: post the week's plan.",
        parameters: expect.objectContaining({ [FIRING_PARAMETER]: firing("routine").firingId }),
      },
    ]);
  });

  it("tells the routine's turn that an asker who left is not in the conversation", async () => {
    const { parts, routines, scheduling } = await agentOf();
    await (await scheduling.store()).keepRoutine("sch_000000000000000000000001", {
      conversationId: "g1",
      asker: "b".repeat(64),
      instruction: "post the week's plan",
    });
    await runFiring(parts, firing("routine"));
    expect(routines.map((r) => [r.r.asker, r.askerHere])).toEqual([["b".repeat(64), false]]);
  });

  it("refuses a routine with nothing kept for it as a failed precondition, taking no turn", async () => {
    const { parts, routines, sent } = await agentOf();
    const refused = await runFiring(parts, firing("routine")).catch((e: unknown) => ConnectError.from(e));
    expect(refused).toMatchObject({ code: Code.FailedPrecondition });
    expect(routines).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("answers whether an inbox is a member of the conversation, and no for a conversation it is not in", async () => {
    const { parts } = await agentOf();
    expect(await isMember(parts, "g1", OWNER)).toBe(true);
    expect(await isMember(parts, "g1", "b".repeat(64))).toBe(false);
    expect(await isMember(parts, "g2", OWNER)).toBe(false);
  });
});
