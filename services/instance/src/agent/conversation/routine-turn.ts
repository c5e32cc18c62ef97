// A routine's firing ("every Monday at 9 post the week's plan") as one turn
// of the person who asked it (docs/schedules.md): its instruction read as
// that person's words in the item's conversation, with what of memory and
// of the conversation their own turn reads (turn-read.ts), charged to them
// in the model budget (budget.ts). Whose turn it is, decided once and pure
// (planRoutine): the owner's may call tools, each through the gate as the
// owner's request with nothing bound (the item's words are the pool's copy,
// which the control plane could change: an act waits for the owner's yes);
// a member's has no tools at all, and a call its model makes anyway is
// refused before the gate; someone no longer in the conversation has none.
// The answer is given back, not sent: the firing posts it with its firing id
// (tools/schedules/firing-run.ts).

import { Code, ConnectError } from "@connectrpc/connect";
import { RefusedTurn } from "../../model/turn.js";
import { memberRole } from "../../platform/roles.js";
import { FILES } from "../../platform/workspace.js";
import type { TextMessage } from "../../platform/xmtp.js";
import { answersOutsiders, type Requester } from "../../tools/gate/permissions.js";
import { recentSaid, type CarryOutParts, type ConversationView } from "./carry-out.js";
import { LLM_LIMITS } from "./budget.js";
import { readTurn } from "./turn-read.js";

/** What a routine's firing knows of its asker. */
export interface RoutineFacts {
  asker: string;
  ownerId: string | undefined;
  /** Whether the asker is a member of the conversation now. */
  askerHere: boolean;
}

export type RoutinePlan = { kind: "refused"; why: string } | { kind: "turn"; role: "owner" | "member"; tools: boolean };

/** Whose turn a routine's firing is, and whether its model is given tools: the owner's only. */
export function planRoutine(f: RoutineFacts): RoutinePlan {
  if (!f.askerHere)
    return { kind: "refused", why: "the person who asked for the routine is not in the conversation now" };
  const role = memberRole(f.ownerId, f.asker);
  return { kind: "turn", role, tools: role === "owner" };
}

/** What a tool call of a turn that has none answers (a member's routine: its model asked anyway). */
export const NO_TOOLS_IN_ROUTINE = "not done: a routine asked by a member runs without tools";

/** What a routine's turn uses of its agent (life/parts.ts). */
export type RoutineParts = Pick<
  CarryOutParts,
  "ws" | "settings" | "memory" | "llm" | "toolbox" | "budget" | "deps" | "homeId" | "log" | "contacts"
>;

/** One routine's firing, as its conversation hears it. */
export interface Routine {
  firingId: string;
  instruction: string;
  asker: string;
}

/**
 * The routine's answer from one turn of its asker's in `c`: undefined when the agent has nothing to say (released).
 * Throws FAILED_PRECONDITION for an asker not there now (the claims service pauses the item), RESOURCE_EXHAUSTED or
 * UNAVAILABLE when the model budget or the model refused it (the claims service tries it again).
 */
export async function routineAnswer(
  agent: RoutineParts,
  c: ConversationView,
  r: Routine,
  askerHere: boolean,
): Promise<string | undefined> {
  const config = agent.settings.config;
  const memory = agent.memory.current;
  const group = c.group;
  if (!config || !memory || !group) return undefined;
  const plan = planRoutine({ asker: r.asker, ownerId: config.ownerId, askerHere });
  if (plan.kind === "refused") throw new ConnectError(plan.why, Code.FailedPrecondition);
  const owner = plan.role === "owner";
  const limits = agent.deps.llmLimits ?? LLM_LIMITS;
  const charge = () => agent.budget.spend({ by: r.asker, owner, conversation: group.id }, Date.now()).allowed;
  if (!charge()) throw new ConnectError("the model budget is spent: try the firing again", Code.ResourceExhausted);
  // The instruction as the asker's message: the recent conversation is read up to it, as for a turn of theirs.
  const m = {
    id: r.firingId,
    senderInboxId: r.asker,
    sentAtNs: BigInt(Date.now()) * 1_000_000n,
    content: r.instruction,
    contentType: { authorityId: "xmtp.org", typeId: "text" },
  } as unknown as TextMessage;
  const turn: { who?: Requester } = {};
  // The owner's address book, by which the owner's call may name its recipient, as in the owner's own turns.
  const contacts = owner ? agent.contacts() : undefined;
  const { who, input } = readTurn({
    config,
    identity: (await agent.ws.readText(FILES.identity)) ?? "",
    conversationId: group.id,
    role: plan.role,
    // What of the conversation the asker's turn reads, gathered here and read within the walls (turn-read.ts).
    memory,
    walls: { ownerId: config.ownerId, home: agent.homeId() ?? group.id },
    who: c.who,
    names: c.names,
    recent: await recentSaid(group, agent.deps.historyLimit),
    m,
    outside: await c.outsideWords.ids(),
    answersOutsiders: answersOutsiders(agent.toolbox.grants),
    level: agent.toolbox.level,
    participation: agent.settings.participation,
    functions: plan.tools ? agent.toolbox.functions() : [],
    callTool: (name, args) =>
      plan.tools && turn.who
        ? agent.toolbox.call(name, args, turn.who)
        : Promise.resolve({ ok: false as const, error: NO_TOOLS_IN_ROUTINE }),
    limits,
    contacts,
  });
  // Nothing bound: an act the owner's routine asks for waits for the owner's yes (tools/gate/gate.ts).
  who.boundActs = { acts: [], dropped: [] };
  if (contacts) who.contacts = contacts;
  turn.who = who;
  input.nextCompletion = charge;
  try {
    return await agent.llm.reply(input);
  } catch (err) {
    agent.log.warn("a routine's turn got no answer", { err, firingId: r.firingId });
    const why = err instanceof RefusedTurn ? err.message : "the model did not answer";
    throw new ConnectError(`${why}: try the firing again`, Code.Unavailable);
  }
}
