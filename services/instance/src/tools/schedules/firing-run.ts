// One firing carried out (InstanceScheduleService.FireSchedule): the plan
// made once (firing.ts planFiring) and done, thinly. Each post carries the
// firing id in its content's parameters (FIRING_PARAMETER), so a reader can
// tell two posts of one firing. The firing id is kept done in
// schedules.json (store.ts, durable with the agent's state): after a
// reminder's post, so a crash before it posts it again rather than never
// (the claims service retries); after an act, which carries the firing id
// itself: a payment's transaction its tag, kept before it is sent, so a
// retry finds what was sent and sends nothing again (payment-once.ts).
// A retry that comes while the first is still running waits for it and
// answers as it does. A routine is one turn of its asker's, taken by the
// agent (agent/conversation/routine-turn.ts), its answer posted here as a
// reminder is and its firing id kept done after the post.

import { formatEther } from "viem";
import { Code, ConnectError } from "@connectrpc/connect";
import { failedPrecondition } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import { type AgentGroup, encodeAnswer } from "../../platform/xmtp.js";
import type { Requester } from "../gate/permissions.js";
import type { SentBefore } from "../providers/wallet.js";
import { type Firing, planFiring } from "./firing.js";
import { type KeptPayment, planPayment } from "./payment-once.js";
import { ACT_FUNCTION, type BoundScheduledAct } from "./policy.js";
import type { Scheduling } from "./scheduling.js";
import type { ScheduleStore } from "./store.js";

/** The parameter of a post's content that names the firing it is of. */
export const FIRING_PARAMETER = "convos-pool.firing";

/** What a firing uses of its agent (agent/life/parts.ts). */
export interface FiringParts {
  readonly id: string;
  readonly scheduling: Scheduling;
  readonly settings: { readonly config?: { readonly ownerId: string } | undefined };
  readonly conversations: {
    get(
      conversationId: string,
    ): { readonly group: AgentGroup | undefined; readonly names: Readonly<Record<string, string>> } | undefined;
  };
  /** `job` between turns, within the conversation `conversationId` (its voice, its questions to the owner). */
  within<T>(conversationId: string, job: () => Promise<T>): Promise<T>;
  readonly toolbox: {
    call(name: string, args: Record<string, unknown>, who: Requester): Promise<{ ok: boolean; error?: string }>;
    /** The payment `hash` its wallet signed before, as the chain has it now; undefined without a wallet. */
    paymentSent?(hash: string): Promise<SentBefore> | undefined;
  };
  readonly log: Logger;
  /**
   * A routine's answer: one turn of `r.asker`'s in `conversationId` (agent/conversation/routine-turn.ts), whether they
   * are a member there now said; undefined when it has nothing to say.
   */
  routine(conversationId: string, r: RoutineAsked, askerHere: boolean): Promise<string | undefined>;
}

/** A routine's firing as its turn is asked for. */
export interface RoutineAsked {
  firingId: string;
  instruction: string;
  asker: string;
}

/** Firings running now, by agent and firing id: a retry that meets one waits for it. */
const running = new Map<string, Promise<boolean>>();

/** Carries out `f`; whether it was done before (`already_done`). Throws FAILED_PRECONDITION for a conversation it is not in. */
export function runFiring(agent: FiringParts, f: Firing): Promise<boolean> {
  const key = `${agent.id}/${f.firingId}`;
  const now = running.get(key);
  if (now) return now.then(() => true);
  const run = carryOut(agent, f).finally(() => running.delete(key));
  running.set(key, run);
  return run;
}

async function carryOut(agent: FiringParts, f: Firing): Promise<boolean> {
  const store = await agent.scheduling.store();
  const conversation = agent.conversations.get(f.item.conversationId);
  const plan = planFiring(f, {
    done: (id) => store.fired(id),
    inConversation: (id) => id === f.item.conversationId && conversation?.group !== undefined,
    ownerId: agent.settings.config?.ownerId,
    kept: f.item.kind === "act" ? store.actOf(f.item.id) : undefined,
    routine: f.item.kind === "routine" ? store.routineOf(f.item.id) : undefined,
  });
  const group = conversation?.group;
  const say = (text: string) =>
    agent.within(f.item.conversationId, () => {
      if (!group) throw failedPrecondition("the agent is not in that conversation");
      return post(group, text, f.firingId);
    });
  const log = { firingId: f.firingId, kind: f.item.kind };
  switch (plan.kind) {
    case "already-done":
      agent.log.info("schedule firing done before: nothing again", log);
      return true;
    case "refused":
      agent.log.warn("schedule firing refused", { ...log, why: plan.why });
      throw failedPrecondition(plan.why);
    case "turn": {
      const conversationId = f.item.conversationId;
      const here = await isMember(agent, conversationId, plan.asker);
      const asked = { firingId: f.firingId, instruction: plan.instruction, asker: plan.asker };
      const posted = await agent.within(conversationId, async () => {
        const text = await agent.routine(conversationId, asked, here);
        if (!text) return false;
        if (!group) throw failedPrecondition("the agent is not in that conversation");
        await post(group, text, f.firingId);
        return true;
      });
      await store.markFired(f.firingId);
      agent.log.info("schedule firing answered", { ...log, posted });
      return false;
    }
    case "post":
      await say(plan.text);
      await store.markFired(f.firingId);
      agent.log.info("schedule firing posted", log);
      return false;
    case "act": {
      const act = plan.act;
      const done = await agent.within(f.item.conversationId, () => actOnce(agent, f, act, store));
      // Kept done after the act, which carries the firing id: a retry finds what it did (payment-once.ts).
      await store.markFired(f.firingId);
      const said = done.ok ? plan.say : `On schedule, not done: ${done.error ?? "refused"}.`;
      await say(said);
      agent.log.info("schedule firing acted", { ...log, ok: done.ok });
      return false;
    }
  }
}

/**
 * The kept act carried out once for firing `f`: a payment sent only when none of its transactions can land
 * (payment-once.ts), its transaction kept before it is sent; UNAVAILABLE while one may still land.
 */
async function actOnce(
  agent: FiringParts,
  f: Firing,
  act: BoundScheduledAct,
  store: ScheduleStore,
): Promise<{ ok: boolean; error?: string }> {
  if (act.act !== "pay") {
    // Its words as kept when the owner asked (policy.ts), never a model's; the firing id goes with them, so that
    // the provider sends one text or mail for two sends of one firing (a retry after a crash).
    if (act.words === undefined)
      return {
        ok: false,
        error: `this scheduled ${act.act} was kept without words to send; ask for it again with them`,
      };
    return agent.toolbox.call(ACT_FUNCTION[act.act], argsOf(act), {
      ...ownersTurn(agent, f, act),
      firing: { id: f.firingId },
    });
  }
  const kept = store.paymentOf(f.firingId);
  const chain = kept && (await agent.toolbox.paymentSent?.(kept.hash)?.catch(() => undefined));
  const plan = planPayment(f.firingId, kept, chain);
  agent.log.info("scheduled payment", { firingId: f.firingId, plan: plan.kind });
  switch (plan.kind) {
    case "wait":
      throw new ConnectError(
        "its payment sent before is not known to be mined or dropped yet: try the firing again",
        Code.Unavailable,
      );
    case "paid":
      return { ok: true };
    case "failed":
      return { ok: false, error: plan.why };
    case "pay": {
      const firing = {
        id: f.firingId,
        nonce: plan.nonce,
        signed: (tx: KeptPayment) => store.keepPayment(f.firingId, tx),
      };
      return agent.toolbox.call(ACT_FUNCTION[act.act], argsOf(act), { ...ownersTurn(agent, f, act), firing });
    }
  }
}

/** `text` in the conversation, the firing id in its content's parameters. */
async function post(group: AgentGroup, text: string, firingId: string): Promise<void> {
  const content = encodeAnswer(text, false);
  await group.send(
    { ...content, parameters: { ...content.parameters, [FIRING_PARAMETER]: firingId } },
    { shouldPush: true },
  );
}

/** The call the kept act is: only its recipient, amount and words as kept, never the item's text. */
function argsOf(act: BoundScheduledAct): Record<string, unknown> {
  const words = act.words ?? "";
  if (act.act === "text") return { to: act.target, text: words };
  if (act.act === "mail") return { to: act.target, subject: subjectOf(words), text: words };
  return { to: act.target, amount_eth: formatEther(BigInt(act.amountWei)) };
}

/** A scheduled mail's subject: its words' first line, cut at 60 characters. */
function subjectOf(words: string): string {
  const line = words.split("\n")[0]?.trim() ?? "";
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

/** The owner's turn that carries out the kept request, once: the gate sees the act bound, as for a request said now. */
function ownersTurn(agent: FiringParts, f: Firing, act: BoundScheduledAct): Requester {
  const owner = agent.settings.config?.ownerId ?? "";
  return {
    role: "owner",
    id: owner,
    name: agent.conversations.get(f.item.conversationId)?.names[owner] ?? "my owner",
    conversationId: f.item.conversationId,
    boundActs: {
      acts: [
        {
          act: act.act,
          toolId: act.toolId,
          target: act.target,
          amountWei: BigInt(act.amountWei),
          name: act.name,
          done: false,
        },
      ],
      dropped: [],
    },
  };
}

/** Whether `inboxId` is a member of `conversationId` now, the group synced first; false in a conversation it is not in. */
export async function isMember(agent: FiringParts, conversationId: string, inboxId: string): Promise<boolean> {
  const group = agent.conversations.get(conversationId)?.group;
  if (!group) return false;
  await group.sync();
  return (await group.members()).some((m) => m.inboxId === inboxId);
}
