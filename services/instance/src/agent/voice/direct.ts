// The owner's direct conversation with the agent, where it asks its
// owner's approval when the owner chose so (Permissions.approvals,
// tools/approvals/policy.ts): amounts, addresses and what a text says stay between
// the two. Convos shows conversations, which are XMTP groups (its CLI reads
// no DM), so it is a Convos conversation of two: a group the agent makes
// with its owner alone, named for the agent, in which only admins add
// anyone, and in which the agent says who it is as in its own. It is kept
// (direct.json) and used again while the owner is the same and still in
// it. It carries questions only: the agent listens there while one waits
// (the agent's one stream hands it that group's messages then:
// conversation/conversations.ts), hands the owner's answers to the toolbox
// (a reply to the question, a reaction on it, a tap on its buttons), and
// says how to answer when the owner writes anything else. It also tells the
// owner what is theirs alone (`tell`: a text to the agent's number that
// several of the owner's conversations texted), listening for nothing. Nothing said
// there is a turn, enters the conversation's history or reaches the model;
// only its owner's messages count.

import type { Logger } from "@convos-pool/kit/server";
import { encodeProfileUpdate } from "@convos-pool/convos";
import {
  asTextMessage,
  encodeAnswer,
  encodeButtons,
  isIntent,
  isReaction,
  isText,
  REACTION_ADDED,
  type AgentClient,
  type AgentGroup,
  type AgentMessage,
  type Buttons,
  type TextMessage,
} from "../../platform/xmtp.js";
import { FILES, type Workspace } from "../../platform/workspace.js";
import { HOW_TO_ANSWER_DIRECTLY, type OwnerAnswer } from "../../tools/approvals/policy.js";
import type { DirectLine } from "../../tools/approvals/questions.js";

/** How often at most it says how to answer, when the owner writes what answers nothing. */
export const HINT_EVERY_MS = 10 * 60_000;

/** GroupPermissionsOptions.AdminOnly (a const enum of the bindings): only admins (the agent) add or remove anyone. */
const ADMIN_ONLY = 1 as never;

/** direct.json: the conversation of two it made with its owner. */
interface DirectFile {
  conversationId: string;
  ownerId: string;
}

export interface DirectDeps {
  ws: Workspace;
  /** Its XMTP client, while it runs. */
  client(): AgentClient | undefined;
  /** Its owner now (a transfer changes it). */
  ownerId(): string | undefined;
  /** Its name, as the conversation of two and its profile there say it. */
  agentName(): string;
  /** Hands the owner's answer over (AgentToolbox.answer): true when it answered a waiting question. */
  answer(a: OwnerAnswer): boolean;
  /** The agent's stream hands `group`'s messages to `tap`, carrying it before this returns, until the function returned is called (Conversations.tap). */
  tap(group: AgentGroup, tap: { heard(m: AgentMessage): void; restarted(): void }): Promise<() => void>;
  log: Logger;
}

/** The owner's message in the direct conversation as what may answer a question: a reply, a reaction added, a tap. */
export function ownerAnswerOf(raw: AgentMessage): OwnerAnswer | undefined {
  const m = asTextMessage(raw);
  if (isIntent(m)) return { kind: "tap", buttons: m.content.id, action: m.content.actionId };
  if (isReaction(m))
    return m.content.action === REACTION_ADDED
      ? { kind: "reaction", to: m.content.reference, emoji: m.content.content }
      : undefined;
  const replyTo = (m as TextMessage).replyTo;
  return isText(m) && replyTo ? { kind: "reply", to: replyTo, text: m.content } : undefined;
}

/** What the conversation of two is called in Convos. */
export function directName(agentName: string): string {
  return `${agentName || "Agent"} · approvals`;
}

export class OwnerLine implements DirectLine {
  /** The conversation of two while it listens there, and how it stops. */
  private open: { group: AgentGroup; owner: string; untap: () => void } | undefined;
  /** Opening it, once for however many questions ask at the same time. */
  private opening: Promise<AgentGroup> | undefined;
  /** When it last said how to answer. */
  private hintAt = 0;
  /** Messages heard (a stream and a catch-up after its restart may both bring one). */
  private readonly heardIds = new Set<string>();

  constructor(private readonly deps: DirectDeps) {}

  async ask(text: string): Promise<string | undefined> {
    try {
      const group = await this.listening();
      return group && (await group.send(encodeAnswer(text, false), { shouldPush: true }));
    } catch (err) {
      this.deps.log.warn("could not ask the owner in our direct conversation", { err });
      return undefined;
    }
  }

  /**
   * Tells the owner `text` there, listening for nothing (what is the owner's alone: a text that may answer any of
   * several conversations). The message's id, or undefined when it could not.
   */
  async tell(text: string): Promise<string | undefined> {
    const owner = this.deps.ownerId();
    const client = this.deps.client();
    if (!owner || !client) return undefined;
    try {
      const group =
        this.open?.owner === owner
          ? this.open.group
          : ((await this.kept(client, owner)) ?? (await this.make(client, owner)));
      return await group.send(encodeAnswer(text, false), { shouldPush: true });
    } catch (err) {
      this.deps.log.warn("could not tell the owner in our direct conversation", { err });
      return undefined;
    }
  }

  async buttons(b: Buttons): Promise<unknown> {
    const group = await this.listening();
    return group?.send(encodeButtons(b), { shouldPush: false });
  }

  idle(): void {
    this.close();
  }

  /** Stops listening (no question waits, the agent stops or sleeps). */
  close(): void {
    this.open?.untap();
    this.open = undefined;
    this.opening = undefined;
  }

  /** A release, a new owner: it leaves the conversation of two, which is not used again. */
  async forget(): Promise<void> {
    this.close();
    const file = await this.deps.ws.readJson<DirectFile>(FILES.direct);
    const client = this.deps.client();
    if (file && client) {
      try {
        const group = (await client.conversations.getConversationById(file.conversationId)) as AgentGroup | undefined;
        await group?.requestRemoval();
      } catch (err) {
        this.deps.log.warn("could not leave the direct conversation", { err });
      }
    }
    await this.deps.ws.remove(FILES.direct);
  }

  /** The conversation of two with the owner now, listened to (before anything is asked: an answer may come before the send returns). */
  private listening(): Promise<AgentGroup | undefined> {
    const owner = this.deps.ownerId();
    const client = this.deps.client();
    if (!owner || !client) return Promise.resolve(undefined);
    if (this.open && this.open.owner !== owner) this.close();
    if (this.open) return Promise.resolve(this.open.group);
    this.opening ??= this.begin(client, owner).catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    });
    return this.opening;
  }

  private async begin(client: AgentClient, owner: string): Promise<AgentGroup> {
    const group = (await this.kept(client, owner)) ?? (await this.make(client, owner));
    const since = BigInt(Date.now()) * 1_000_000n;
    const untap = await this.deps.tap(group, {
      heard: (m) => void this.heard(group, m, owner),
      // A restarted stream subscribes from now: what the owner said meanwhile is read back.
      restarted: () => void this.catchUp(group, since),
    });
    this.open = { group, owner, untap };
    return group;
  }

  /** The conversation of two it made with `owner` before, while they are still in it. */
  private async kept(client: AgentClient, owner: string): Promise<AgentGroup | undefined> {
    const file = await this.deps.ws.readJson<DirectFile>(FILES.direct);
    if (file?.ownerId !== owner) return undefined;
    const group = (await client.conversations.getConversationById(file.conversationId)) as AgentGroup | undefined;
    if (!group) return undefined;
    await group.sync();
    const members = (await group.members()).map((m) => m.inboxId);
    return group.isActive && members.includes(owner) ? group : undefined;
  }

  private async make(client: AgentClient, owner: string): Promise<AgentGroup> {
    const name = this.deps.agentName();
    const group = await client.conversations.createGroup([owner], {
      groupName: directName(name),
      permissions: ADMIN_ONLY,
    });
    // Who it is, as Convos shows members: its name, and that it is an agent.
    await group.send(encodeProfileUpdate(name, true));
    await this.deps.ws.writeJson(FILES.direct, { conversationId: group.id, ownerId: owner } satisfies DirectFile);
    this.deps.log.info("direct conversation with the owner made");
    return group;
  }

  /** What was said there since `since` (ns), read as if it streamed. */
  private async catchUp(group: AgentGroup, since: bigint): Promise<void> {
    const owner = this.open?.owner;
    if (!owner || this.open?.group !== group) return;
    try {
      await group.sync();
      for (const m of await group.messages({ sentAfterNs: since })) await this.heard(group, m, owner);
    } catch (err) {
      this.deps.log.warn("catching up on the direct conversation failed", { err });
    }
  }

  /** A message there: the owner's answer handed over; words of the owner's that answer nothing get how to answer. */
  private async heard(group: AgentGroup, m: AgentMessage, owner: string): Promise<void> {
    if (m.senderInboxId !== owner || this.heardIds.has(m.id)) return;
    this.heardIds.add(m.id);
    if (this.heardIds.size > 100) this.heardIds.delete(this.heardIds.values().next().value as string);
    const answer = ownerAnswerOf(m);
    if (answer) {
      // A reply to an answered question, a ❤️: nothing to do, and nothing to teach.
      this.deps.answer(answer);
      return;
    }
    // Words that answer no question: how to answer one, now and then.
    if (!isText(asTextMessage(m)) || Date.now() - this.hintAt < HINT_EVERY_MS) return;
    this.hintAt = Date.now();
    await group
      .send(encodeAnswer(HOW_TO_ANSWER_DIRECTLY, false), { shouldPush: true })
      .catch((err: unknown) => this.deps.log.warn("could not say how to answer", { err }));
  }
}
