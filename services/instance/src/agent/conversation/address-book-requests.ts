// The owner's save requests in the conversation ("save Ana's wallet as
// 0x…"): each read from the owner's text (tools/address-book/store.ts
// saveRequestsIn), shown back in a question to the owner that states exactly
// what would be saved, asked as a tool call's approval is asked (the owner's
// reply, 👍 or 👎, or a tap on its buttons; no answer in time is a no:
// tools/approvals/policy.ts), and saved (`via: "chat"`) only on the owner's yes.
// Only the owner's messages come here (carry-out.ts, by inbox id): a
// member's or an outsider's save request asks nothing and saves nothing.
// The question waits outside the agent's turns, so the conversation goes on
// while it does. What it logs is kinds and outcomes, never a name or a value.

import { ConnectError } from "@connectrpc/connect";
import type { Logger } from "@convos-pool/kit/server";
import type { AddressBook } from "../../tools/address-book/store.js";
import { describeContact, saveRequestsIn, saveStatement, type SaveRequest } from "../../tools/address-book/policy.js";
import type { Approval } from "../../tools/gate/gate.js";
import type { Said } from "../../tools/approvals/questions.js";

/** What a save request uses of its agent. */
export interface SavingParts {
  readonly toolbox: {
    readonly addressBook: AddressBook | undefined;
    ask(statement: string, about?: Said): Promise<Approval>;
  };
  readonly voice: { replyTo(text: string, to: Said): Promise<string | undefined> };
  readonly settings: { readonly config?: { readonly ownerId: string } | undefined };
  readonly log: Logger;
}

/** How one request ended. */
export type SaveOutcome = "saved" | "declined" | "timeout" | "known" | "refused" | "gone";

/**
 * The save requests in `m` (the owner's text, without the name it was
 * addressed to the agent with), each asked and, on the owner's yes, saved;
 * returns at once, the questions waiting on their own.
 */
export function askToSave(agent: SavingParts, m: Said & { content: string }): void {
  for (const request of saveRequestsIn(m.content)) {
    void askAndSave(agent, request, m).catch((err: unknown) =>
      agent.log.warn("a save to the address book failed", { kind: request.kind, err }),
    );
  }
}

/**
 * One save request: known already (the same value under that name and kind)
 * is said so without asking; otherwise the question, and the owner's answer
 * carried out. Nothing is saved if the address book or its owner changed
 * while the question waited (a new claim, a transfer).
 */
export async function askAndSave(agent: SavingParts, request: SaveRequest, about: Said): Promise<SaveOutcome> {
  const book = agent.toolbox.addressBook;
  const owner = agent.settings.config?.ownerId;
  if (!book || !owner) return "gone";
  const before = book.lookup(request.name, request.kind);
  if (before?.value === request.value) {
    await say(agent, `Already in your address book: ${describeContact(before)}.`, about);
    return "known";
  }
  const answer = await agent.toolbox.ask(saveStatement(request, before), about);
  if (agent.toolbox.addressBook !== book || agent.settings.config?.ownerId !== owner) {
    agent.log.info("save to the address book dropped: its owner or book changed while it asked", {
      kind: request.kind,
    });
    return "gone";
  }
  if (answer !== "yes") {
    agent.log.info("save to the address book not approved", { kind: request.kind, answer });
    const why = answer === "no" ? "you said no" : "no answer in time";
    await say(agent, `Not saved (${why}): ${describeContact(request)}.`, about);
    return answer === "no" ? "declined" : "timeout";
  }
  try {
    const saved = await book.save({ ...request, via: "chat" });
    agent.log.info("contact saved from the conversation", { kind: saved.kind, replaced: before !== undefined });
    await say(agent, `Saved to your address book: ${describeContact(saved)}.`, about);
    return "saved";
  } catch (err) {
    agent.log.warn("contact not saved", { kind: request.kind, err });
    await say(agent, `Not saved: ${ConnectError.from(err).rawMessage}.`, about);
    return "refused";
  }
}

async function say(agent: SavingParts, text: string, about: Said): Promise<void> {
  await agent.voice
    .replyTo(text, about)
    .catch((err: unknown) => agent.log.warn("could not say how a save ended", { err }));
}
