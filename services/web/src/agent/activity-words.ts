// An agent's activity entry as a sentence for its owner ("Paid 0.01 ETH to
// 0x12ab…b0b0, asked by Ana, approved by you, today, 10:02"), from the entry
// and who reads it (ActivityEntry, proto/convos/pool/v1/instance.proto). Read
// without details (a session alone: no target, amount, detail or asker), an
// entry still reads as a sentence ("Paid money, asked by a member"). Pure:
// the page draws it.
import type { ActivityEntry } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { ToolCallOutcome } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { eth, short } from "../words/format";
import { dateTime, type Reader } from "../words/words";

export type ActivityWords = {
  /** What happened, to whom, and when, in one sentence. */
  sentence: string;
  /** Why it was not done or failed, in the agent's own words; what a change was. */
  why?: string;
  /** What came of a call that was done (a transaction hash, a message id). */
  result?: string;
};

/** A wallet address as people compare them: its start and end ("0x12ab…b0b0"); anything else as it is. */
export function shortTarget(target: string): string {
  return /^0x[0-9a-fA-F]{40}$/.test(target) ? `${target.slice(0, 6)}…${target.slice(-4)}` : target;
}

/** A tool call's act, as "do" and "done": "pay 0.01 ETH to 0x12ab…b0b0" and "Paid 0.01 ETH to 0x12ab…b0b0". */
function act(e: ActivityEntry): { todo: string; done: string } {
  const to = e.target ? ` to ${shortTarget(e.target)}` : "";
  const amount = e.amountWei ? `${eth(e.amountWei)} ETH` : "money";
  switch (e.action) {
    case "send_payment":
      return { todo: `pay ${amount}${to}`, done: `Paid ${amount}${to}` };
    case "wallet_balance":
      return { todo: "check its wallet's balance", done: "Checked its wallet's balance" };
    case "send_sms":
      return { todo: `send a text${to}`, done: `Sent a text${to}` };
    case "send_email":
      return { todo: `send a mail${to}`, done: `Sent a mail${to}` };
    case "list_email":
      return { todo: "check its mail", done: "Checked its mail" };
    case "read_email":
      return { todo: "read a mail", done: "Read a mail" };
    default: {
      // A tool this page does not know yet: its names, still in a sentence.
      const what = `use ${e.toolId || "a tool"} (${e.action || "unnamed"})${to}`;
      return { todo: what, done: `Used ${e.toolId || "a tool"} (${e.action || "unnamed"})${to}` };
    }
  }
}

/** A change of level: "L3 → L4, set by the owner, spending at most 0.05 ETH a day" as the agent records it. */
function levelChange(e: ActivityEntry): Omit<ActivityWords, "sentence"> & { what: string } {
  const m = /^(\S*) → (\S+), (.*)$/.exec(e.detail);
  if (!m) return { what: "Its trust level changed", ...(e.detail && { why: e.detail }) };
  const [, from, to, rest = ""] = m;
  const byOwner = rest.startsWith("set by the owner");
  const limit = /spending at most .*$/.exec(rest)?.[0];
  const moved = from && from !== "—" ? `from ${from} to ${to}` : `to ${to}`;
  // The same level with a limit signed: the change is the limit.
  if (byOwner && from === to && limit) return { what: `You set its daily limit at ${to}: ${limit}` };
  if (byOwner) return { what: `You moved its trust level ${moved}${limit ? `, ${limit}` : ""}` };
  return { what: `Its trust level moved ${moved}`, why: rest };
}

/** Who reads the log: the signed-in owner's inbox, so that what they asked reads "asked by you". */
export type LogReader = Reader & { inboxId?: string | undefined };

/** Who asked when the log was read without details (a session alone): only their role is there. */
const ROLE_ONLY = new Map([
  ["owner", "its owner"],
  ["member", "a member"],
  ["outsider", "someone from outside the conversation"],
]);

/**
 * Who asked, as the reader says it: "you"; a member by the name the
 * conversation knew them by (else a short inbox id); an outsider as such; an
 * earlier owner as "its owner then"; read without details, by their role
 * alone ("a member"). Undefined when the entry does not say.
 */
export function askerWords(e: ActivityEntry, inboxId?: string): string | undefined {
  if (!e.askedBy) return ROLE_ONLY.get(e.askedByRole);
  if (inboxId && e.askedBy === inboxId) return "you";
  const name = e.askedByName.trim() || short(e.askedBy);
  if (e.askedByRole === "outsider") return `${name}, from outside the conversation`;
  if (e.askedByRole === "owner") return `${name}, its owner then`;
  return name;
}

/** ", asked by Ana, approved by you"; ", asked and approved by you" when both are the reader. */
function whoWords(asker: string | undefined, approved: boolean): string {
  if (asker === "you" && approved) return ", asked and approved by you";
  return `${asker ? `, asked by ${asker}` : ""}${approved ? ", approved by you" : ""}`;
}

/** The entry as a sentence, its time in the reader's words, its asker as the reader says them. */
export function activityWords(e: ActivityEntry, r: LogReader = {}): ActivityWords {
  const at = e.at ? dateTime(new Date(Number(e.at.seconds) * 1000), r) : undefined;
  const end = (what: string) => (at ? `${what}, ${at}` : what);
  if (e.toolId === "trust") {
    const { what, ...rest } = levelChange(e);
    return { sentence: end(what), ...rest };
  }
  if (e.toolId === "permissions") {
    const why = e.detail.replace(/^set by the owner:\s*/, "");
    return { sentence: end("You changed who may ask it for what"), ...(why && { why }) };
  }
  const { todo, done } = act(e);
  const asker = askerWords(e, r.inboxId);
  const asked = whoWords(asker, false);
  const approved = whoWords(asker, e.approved);
  const why = e.detail ? { why: e.detail } : {};
  switch (e.outcome) {
    case ToolCallOutcome.DONE:
      return { sentence: end(`${done}${approved}`), ...(e.detail && { result: e.detail }) };
    case ToolCallOutcome.REFUSED:
      return { sentence: end(`Refused to ${todo}${asked}`), ...why };
    case ToolCallOutcome.DENIED:
      return { sentence: end(`Did not ${todo}${asked}: you said no`) };
    case ToolCallOutcome.TIMED_OUT:
      return { sentence: end(`Did not ${todo}${asked}: you did not answer in time`) };
    case ToolCallOutcome.FAILED:
      return { sentence: end(`Tried to ${todo}${approved}, and it failed`), ...why };
    default:
      return { sentence: end(`Asked to ${todo}${asker ? ` by ${asker}` : ""}; how it ended was not recorded`), ...why };
  }
}
