// An approval is bound to one action: the agent asks in a message of its own
// that states the action in full, and only its owner's reply to that message,
// or a 👍 or 👎 on it, answers. A bare "ok" in the conversation, a reply to
// another message, anyone else's answer: none approves anything. Pure; the
// toolbox holds the one waiting question, the conversation hands it the
// owner's replies and reactions.

/** How long a question waits for its answer; no answer in time is a no. */
export const APPROVAL_TIMEOUT_MS = 10 * 60_000;

/** The owner's message that may answer a question: a text reply to a message, or a reaction on one. */
export type OwnerAnswer = { kind: "reply"; to: string; text: string } | { kind: "reaction"; to: string; emoji: string };

const YES_WORDS = new Set(["yes", "y", "ok", "okay", "approve", "approved", "go ahead", "do it", "👍"]);
const NO_WORDS = new Set(["no", "n", "deny", "denied", "don't", "do not", "stop", "👎"]);

/** 👍 in any skin tone, or 👎. */
function reactionWord(emoji: string): "yes" | "no" | undefined {
  const bare = emoji.replace(/[\u{1F3FB}-\u{1F3FF}\uFE0F]/gu, "");
  return bare === "👍" ? "yes" : bare === "👎" ? "no" : undefined;
}

/** A reply's whole text as yes or no ("Yes.", "ok!", "no thanks" is not one): nothing else counts. */
export function replyWord(text: string): "yes" | "no" | undefined {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/[\s.!]+$/u, "");
  if (YES_WORDS.has(t)) return "yes";
  if (NO_WORDS.has(t)) return "no";
  return reactionWord(t);
}

/** What `answer` says of the question sent as message `question`; undefined when it is not an answer to it. */
export function approvalAnswer(question: string | undefined, answer: OwnerAnswer): "yes" | "no" | undefined {
  if (!question || answer.to !== question) return undefined;
  return answer.kind === "reaction" ? reactionWord(answer.emoji) : replyWord(answer.text);
}

/** The question: the action in full, addressed to the owner, saying how to answer and for how long. */
export function approvalQuestion(ownerName: string, statement: string, timeoutMs: number): string {
  const minutes = Math.max(1, Math.round(timeoutMs / 60_000));
  return [
    `${ownerName}, may I do this?`,
    "",
    statement,
    "",
    `Reply to this message with yes or no, or react 👍 or 👎 (within ${minutes} minute${minutes === 1 ? "" : "s"}). Nothing else approves it.`,
  ].join("\n");
}
