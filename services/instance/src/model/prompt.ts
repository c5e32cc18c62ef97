// What the model reads: the system prompt of a turn (IDENTITY.md, context,
// the memory its starter may see), the conversation's lines, and the ask
// for a clone summary. Pure: the providers (openai.ts, offline.ts) send it.

import { aboutOf } from "../memory/feedback.js";
import { capText, historyWithin, memorySection } from "./caps.js";
import type { ChatMessage, HistoryLine, SummaryInput, TurnInput } from "./turn.js";

/** A person's line as the model reads it: "[owner] Saul: text". */
export function userLine(h: Pick<HistoryLine, "sender" | "speaker" | "text">): string {
  const label = h.speaker ? `[${h.speaker}] ` : "";
  return h.sender || label ? `${label}${h.sender ?? "member"}: ${h.text}` : h.text;
}

/** At most this many entries in a clone summary (and at most 32 KiB, clone/summary.ts). */
export const MAX_SUMMARY_ENTRIES = 200;

export const SUMMARY_PROMPT = [
  "You hand over what an assistant has learned to a copy of itself that will work in another conversation.",
  "Write the durable knowledge the copy should bring, as short self-contained sentences, following the owner's directive:",
  "bring what it asks for, and leave out everything it excludes.",
  'Kinds: "training" (how to do the job), "personalization" (the people and their preferences), "credentials" (accounts, numbers, keys to use).',
  "Use only the kinds listed as allowed; never include anything of another kind.",
  'Answer with JSON only: {"entries":[{"kind":"training","text":"Only suggest local restaurants"}]}.',
].join("\n");

/** The chat-completions messages that ask for a clone summary. */
export function summaryMessages(input: SummaryInput): ChatMessage[] {
  const memory = input.entries.map((e) => `- [${e.kind}] ${e.text}`).join("\n") || "(nothing)";
  const recent =
    input.recent
      .map((h) => (h.role === "assistant" ? `you: ${h.text}` : userLine({ sender: "member", ...h })))
      .join("\n") || "(nothing)";
  return [
    {
      role: "system",
      content: `${SUMMARY_PROMPT}\n\nAllowed kinds: ${input.carry.join(", ")}\n\nThe owner's directive: ${input.directive || "(none: bring everything of the allowed kinds)"}\n\nWhat you remember:\n${memory}`,
    },
    { role: "user", content: `The recent conversation:\n${recent}` },
  ];
}

/**
 * The system prompt of a turn: IDENTITY.md first, then the context, then the
 * memory its starter may see, within the limits (the entries that matter
 * most for the message it answers).
 */
export function systemPrompt(
  input: Pick<TurnInput, "identity" | "context" | "memory" | "role" | "limits" | "inboundText"> &
    Partial<Pick<TurnInput, "history">>,
): string {
  const memory = input.memory.visibleTo(input.role ?? "member");
  const about = input.inboundText?.text ?? input.history?.at(-1)?.text ?? "";
  return [input.identity.trimEnd(), input.context.trim(), memorySection(memory, about, input.limits?.memoryTokens ?? 0)]
    .filter(Boolean)
    .join("\n\n");
}

/** The chat-completions messages of a turn. */
export function turnMessages(input: TurnInput): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: "system", content: systemPrompt(input) },
    ...(input.limits ? historyWithin(input.history, input.limits) : input.history).map<ChatMessage>((h) =>
      h.role === "assistant" ? { role: "assistant", content: h.text } : { role: "user", content: userLine(h) },
    ),
  ];
  const last = messages.at(-1);
  if (input.correcting && last?.role === "user") {
    last.content += `\n(This corrects your earlier answer: "${aboutOf(input.correcting)}")`;
  }
  if (input.forgot !== undefined && last?.role === "user") {
    last.content += `\n(As they asked, you have forgotten the ${input.forgot} entries of your memory they taught you. Tell them so, and repeat nothing they taught you.)`;
  }
  const t = input.inboundText && {
    ...input.inboundText,
    text: capText(input.inboundText.text, input.limits?.messageTokens ?? 0),
  };
  if (t) {
    messages.push({
      role: "user",
      content:
        `[outsider] A text message came to your number ${t.to} from ${t.from}: "${t.text}"\n` +
        (t.answer
          ? `You may answer it once with send_sms to ${t.from}, if it calls for an answer; tell the sender nothing you remember. Then say in one or two sentences, for the conversation, what came and what you did.`
          : `Your owner has you pass on texts from outside, not answer them: say in one or two sentences, for the conversation, what came.`),
    });
  }
  return messages;
}
