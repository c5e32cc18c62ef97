// The conversation summary an owner's memory export carries
// (docs/memory.md): one model call when the agent has a model, else (or when
// the call fails) the last lines, cut short and masked. What reaches the
// file is masked either way: the prompt asks, the mask makes sure.

import type { Logger } from "@convos-pool/kit/server";
import { maskSecrets, SUMMARY_LINE_CHARS, SUMMARY_LINES, type ConversationSummary } from "../memory/file.js";
import { OpenAiProvider } from "./openai.js";
import type { ChatMessage, HistoryLine, LlmProvider } from "./turn.js";

export interface SummaryAgent {
  agentName: string;
  /** Its model; empty: the host's default. */
  model: string;
  llm: LlmProvider;
  log: Logger;
}

/** The summary of `history` (oldest first) among `participants`. */
export async function summarizeConversation(
  a: SummaryAgent,
  history: readonly HistoryLine[],
  participants: number,
): Promise<ConversationSummary> {
  if (history.length === 0) return { messages: 0, participants, via: "offline", lines: [] };
  if (a.llm instanceof OpenAiProvider) {
    const model = a.model || a.llm.client.defaultModel;
    if (model) {
      try {
        const answer = await a.llm.client.complete({
          model,
          temperature: 0,
          messages: conversationSummaryMessages(history, a.agentName),
        });
        return summaryFromAnswer(answer, history.length, participants);
      } catch (err) {
        a.log.warn("the model could not summarize the conversation for an export; the last lines go instead", { err });
      }
    }
  }
  return offlineSummary(history, a.agentName, participants);
}

/** The last SUMMARY_LINES text messages, "<name>: <start>", masked like secrets' descriptions. */
export function offlineSummary(
  history: readonly HistoryLine[],
  agentName: string,
  participants: number,
): ConversationSummary {
  const recent = history.slice(-SUMMARY_LINES);
  return {
    messages: recent.length,
    participants,
    via: "offline",
    lines: recent.map(
      (h) =>
        `${h.role === "assistant" ? agentName : (h.sender ?? "member")}: ${maskSecrets(h.text.slice(0, SUMMARY_LINE_CHARS))}`,
    ),
  };
}

export const CONVERSATION_SUMMARY_PROMPT = [
  "Summarize this group conversation for the assistant's owner, who is taking the assistant's memory to another conversation.",
  "Write at most 10 short lines: what the conversation is about, what was decided, what is still open.",
  "Never include phone numbers, passwords, keys, account numbers or other secrets.",
].join("\n");

/** The chat-completions messages that ask a model for the conversation summary. */
export function conversationSummaryMessages(history: readonly HistoryLine[], agentName: string): ChatMessage[] {
  const lines =
    history.map((h) => `${h.role === "assistant" ? agentName : (h.sender ?? "member")}: ${h.text}`).join("\n") ||
    "(nothing)";
  return [
    { role: "system", content: CONVERSATION_SUMMARY_PROMPT },
    { role: "user", content: `The conversation:\n${lines}` },
  ];
}

/** A model's summary as lines, masked as well: the prompt asks, the mask makes sure. */
export function summaryFromAnswer(answer: string, messages: number, participants: number): ConversationSummary {
  const lines = answer
    .split("\n")
    .map((l) => l.replace(/^\s*[-*•]\s*/, "").trim())
    .filter(Boolean)
    .slice(0, 10)
    .map((l) => maskSecrets(l.slice(0, SUMMARY_LINE_CHARS)));
  return { messages, participants, via: "llm", lines };
}
