// A person's request of time in the conversation, carried out
// (tools/schedules/policy.ts decides it from their own words, pure): a
// reminder or a routine is kept at once and shown back (when, how often, in
// which zone); the owner's scheduled act is shown back as a question and kept
// only on the owner's yes, its bound request kept by the agent under the
// item's id; a stop cancels the items it names that the person may cancel;
// a listing says the conversation's own items, never another's;
// the owner sets the conversation's zone, asked for once when a request
// needs it, and the request that waited for it is heard again, unless it
// is a day old (zone-wait.ts). The model plays no part: no function of the
// model's makes, moves or cancels an item, so a model that does what
// injected text says can neither schedule an act nor change one. Returns whether the message was
// such a request (then the turn is not taken: the pool's words answered it).

import { ConnectError } from "@connectrpc/connect";
import type { Logger } from "@convos-pool/kit/server";
import type { Said } from "../../tools/approvals/questions.js";
import type { Approval } from "../../tools/gate/gate.js";
import type { Contacts } from "../../tools/request/binding.js";
import type { KeptItem, OnBehalf, ScheduleDesk } from "../../tools/schedules/desk.js";
import { itemsStopped, listWords, readTimeAsk, type TimeAsk } from "../../tools/schedules/policy.js";
import type { Scheduling, Waiting } from "../../tools/schedules/scheduling.js";
import type { Reader } from "../../walls/labels.js";
import { itemsFor } from "../../walls/views.js";
import { held, replayed } from "./zone-wait.js";

/** What a request of time uses of its agent. */
export interface SchedulingParts {
  /** None: the host has no schedules service, and the agent keeps no time. */
  readonly scheduling?: Scheduling | undefined;
  readonly toolbox: {
    readonly addressBook: Contacts | undefined;
    ask(statement: string, about?: Said): Promise<Approval>;
    functions(): readonly { name: string }[];
  };
  readonly voice: { replyTo(text: string, to: Said): Promise<string | undefined> };
  readonly settings: {
    readonly config?: { readonly ownerId: string; readonly userConfig: Record<string, string> } | undefined;
  };
  readonly log: Logger;
}

/** How a request of time ended, for tests and the log. */
export type TimeOutcome = "none" | "zone" | "waits" | "refused" | "kept" | "asked" | "stopped" | "listed" | "failed";

/**
 * The request of time in `m` (the person's text, without the agent's name),
 * if any: decided now, said now, except an act's question, which waits on its
 * own while the conversation goes on.
 */
export async function askToSchedule(
  agent: SchedulingParts,
  m: Waiting["said"],
  role: "owner" | "member",
  conversationId: string,
): Promise<TimeOutcome> {
  const scheduling = agent.scheduling;
  const config = agent.settings.config;
  if (!scheduling?.desk || !config) return "none";
  const store = await scheduling.store();
  const owner = role === "owner";
  const ask = readTimeAsk(m.content, {
    role,
    now: scheduling.now(),
    saidAt: m.sentAtNs === undefined ? undefined : Number(m.sentAtNs / 1_000_000n),
    zone: store.zoneOf(conversationId),
    tools: agent.toolbox.functions().map((f) => f.name),
    // The owner's contacts and settings bind the owner's acts only (tools/request/binding.ts).
    contacts: owner ? agent.toolbox.addressBook : undefined,
    settings: owner ? config.userConfig : undefined,
  });
  const on: OnBehalf = { instanceId: scheduling.instanceId, conversationId, inboxId: m.senderInboxId };
  try {
    return await carryOut(agent, scheduling, ask, { m, role, on });
  } catch (err) {
    agent.log.warn("a request of time failed", { kind: ask.kind, err });
    await say(agent, `Not kept: ${ConnectError.from(err).rawMessage}.`, m);
    return "failed";
  }
}

async function carryOut(
  agent: SchedulingParts,
  scheduling: Scheduling,
  ask: TimeAsk,
  heard: { m: Waiting["said"]; role: "owner" | "member"; on: OnBehalf },
): Promise<TimeOutcome> {
  const { m, role, on } = heard;
  const desk = scheduling.desk;
  if (!desk) return "none";
  switch (ask.kind) {
    case "none":
      return "none";
    case "refused":
      await say(agent, ask.why, m);
      return "refused";
    case "zone": {
      await (await scheduling.store()).setZone(on.conversationId, ask.zone);
      await say(agent, `This conversation's time zone is now ${ask.zone}.`, m);
      // The request that waited for it, heard again in the zone now set, read from when it was said; or, a day
      // old, dropped with a word to its sender (zone-wait.ts).
      const waiting = scheduling.waiting.get(on.conversationId);
      scheduling.waiting.delete(on.conversationId);
      if (!waiting) return "zone";
      const replay = replayed(waiting, { now: scheduling.now(), ownerId: agent.settings.config?.ownerId });
      if (replay.kind === "expired") await say(agent, replay.words, waiting.said);
      else await askToSchedule(agent, replay.said, replay.role, on.conversationId);
      return "zone";
    }
    case "needs-zone": {
      scheduling.waiting.set(on.conversationId, held(m, role, scheduling.now()));
      const first = !scheduling.zoneAsked.has(on.conversationId);
      scheduling.zoneAsked.add(on.conversationId);
      await say(
        agent,
        first
          ? `I keep time in this conversation's time zone, and its owner has not set one yet. Owner, which is it? Say "time zone Europe/Paris" (any place's zone), and I'll carry this out.`
          : `This still waits for the owner to set the conversation's time zone ("time zone Europe/Paris").`,
        m,
      );
      return "waits";
    }
    case "keep": {
      if (ask.spec.kind !== "act") {
        const item = await desk.create(on, ask.spec);
        // A routine's firing is a turn of whoever the agent kept as its asker, never the item's (tools/schedules/firing.ts).
        if (ask.spec.kind === "routine")
          await (await scheduling.store()).keepRoutine(item.id, {
            conversationId: on.conversationId,
            asker: on.inboxId,
            instruction: ask.spec.text,
          });
        agent.log.info("item kept from the conversation", { kind: ask.spec.kind, id: item.id });
        await say(agent, ask.showBack, m);
        return "kept";
      }
      // Decided by the pool's code above (policy.ts): an act is the owner's; this holds it here too.
      if (role !== "owner" || !ask.act) return "refused";
      void askAndKeepAct(agent, scheduling, { ...ask, act: ask.act }, heard).catch((err: unknown) =>
        agent.log.warn("a scheduled act was not kept", { err }),
      );
      return "asked";
    }
    case "list": {
      const items = await heldHere(desk, heard);
      const store = await scheduling.store();
      const ownerId = agent.settings.config?.ownerId ?? "";
      await say(
        agent,
        listWords(items, {
          now: scheduling.now(),
          zone: store.zoneOf(on.conversationId),
          speaker: m.senderInboxId,
          ownerId,
          templates: new Set(Object.values(store.templateRoutinesIn(on.conversationId)).map((k) => k.itemId)),
        }),
        m,
      );
      return "listed";
    }
    case "stop": {
      const items = await heldHere(desk, heard);
      // A member stops only what they asked for; the owner anything of the conversation (the service holds the same).
      const theirs = role === "owner" ? items : items.filter((i) => i.askedBy === m.senderInboxId);
      const stopped = itemsStopped(theirs, ask.about);
      if (stopped.length === 0) {
        await say(agent, "I found nothing of yours to stop by those words: say what it was about.", m);
        return "refused";
      }
      const store = await scheduling.store();
      for (const item of stopped) {
        await desk.cancel(on, item.id);
        await store.forget(item.id);
      }
      await say(agent, `Stopped: ${stopped.map((i) => `${i.text} (${i.kind})`).join("; ")}.`, m);
      return "stopped";
    }
  }
}

/** The conversation's items as the service lists them, held to the walls: none of another conversation's. */
async function heldHere(desk: ScheduleDesk, heard: { m: Waiting["said"]; role: "owner" | "member"; on: OnBehalf }) {
  const { m, role, on } = heard;
  const reader: Reader = {
    kind: "person",
    conversationId: on.conversationId,
    inboxId: m.senderInboxId,
    owner: role === "owner",
  };
  return itemsFor(await desk.list(on), reader);
}

/**
 * The owner's act: shown back as a question (the approval's yes, 👍 or a
 * tap; no answer in time is a no), kept on the yes with its bound request
 * under the item's id. Nothing is kept if the owner changed while it asked.
 */
async function askAndKeepAct(
  agent: SchedulingParts,
  scheduling: Scheduling,
  ask: Extract<TimeAsk, { kind: "keep" }> & { act: NonNullable<Extract<TimeAsk, { kind: "keep" }>["act"]> },
  heard: { m: Waiting["said"]; on: OnBehalf },
): Promise<void> {
  const { m, on } = heard;
  const desk = scheduling.desk;
  if (!desk) return;
  const owner = agent.settings.config?.ownerId;
  const answer = await agent.toolbox.ask(ask.showBack, m);
  if (agent.settings.config?.ownerId !== owner || owner !== m.senderInboxId) return;
  if (answer !== "yes") {
    await say(agent, `Not scheduled (${answer === "no" ? "you said no" : "no answer in time"}): ${ask.spec.text}.`, m);
    return;
  }
  const payload = new TextEncoder().encode(JSON.stringify(ask.act));
  let item: KeptItem;
  try {
    item = await desk.create(on, ask.spec, payload);
  } catch (err) {
    await say(agent, `Not scheduled: ${ConnectError.from(err).rawMessage}.`, m);
    return;
  }
  await (await scheduling.store()).keepAct(item.id, on.conversationId, ask.act);
  agent.log.info("scheduled act kept from the conversation", { id: item.id, act: ask.act.act });
  await say(agent, `Scheduled: ${ask.spec.text}. Say "stop the scheduled payment" to stop it.`, m);
}

async function say(agent: SchedulingParts, text: string, about: Said): Promise<void> {
  await agent.voice.replyTo(text, about).catch((err: unknown) => agent.log.warn("could not say it", { err }));
}
