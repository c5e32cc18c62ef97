// The agent's conversations: its home (the one it was claimed into) and
// those its owner added it to, each a Conversation (listening.ts). The only
// owner of conversations.json (through files.ts): what it loads at a start,
// what a join or a leave writes.
//
// A turn runs within its conversation (AsyncLocalStorage, `within`): what
// the agent's rooms reach while it runs (the voice a tool speaks with, the
// phones a turn reads, the participation it answers under, where a question
// to the owner is asked) is that conversation's, however deep the call and
// across the waits of a parked turn. Outside any turn (a mail noticed, a
// call of the pool) it is the home. Passing the conversation down every
// call of the toolbox and the gate would say the same with many more
// signatures; a turn that forgot to pass it would speak in the home.

import { AsyncLocalStorage } from "node:async_hooks";
import type { AgentGroup } from "../../platform/xmtp.js";
import type { JsonValue } from "@bufbuild/protobuf";
import {
  conversationOf,
  readConversations,
  removeConversations,
  writeJoined,
  writeJoinedHome,
  writeLeft,
  type ConversationState,
  type ConversationTools,
  type SavedConversationState,
} from "./files.js";
import { Conversation, type ConversationParts } from "./listening.js";
import { conversationFile } from "../../platform/workspace.js";
import type { InboundTextTurn } from "../../model/turn.js";

export class Conversations {
  private readonly byId = new Map<string, Conversation>();
  private homeId: string | undefined;
  private readonly turnIn = new AsyncLocalStorage<Conversation>();
  /** Where it is while in none (idle, released): its voice goes nowhere, its pieces hold nothing. */
  private readonly none: Conversation;

  /** Says its own profile again in a conversation where others joined (face/profile.ts): set by the agent (face/agent.ts). */
  onOthersJoined: ((c: Conversation) => Promise<void>) | undefined;

  constructor(private readonly agent: ConversationParts) {
    this.none = new Conversation(agent, this);
  }

  /** `job` as a turn of `c`: the conversation the agent's rooms reach while it runs. */
  within<T>(c: Conversation, job: () => Promise<T>): Promise<T> {
    return this.turnIn.run(c, job);
  }

  /** The conversation of the turn running now; outside any turn its home; in none, a conversation of no group. */
  get here(): Conversation {
    return this.turnIn.getStore() ?? this.home ?? this.none;
  }

  /** Its home conversation (none before a join and after a Release). */
  get home(): Conversation | undefined {
    return this.homeId === undefined ? undefined : this.byId.get(this.homeId);
  }

  get(conversationId: string): Conversation | undefined {
    return this.byId.get(conversationId);
  }

  /** Every conversation it is in, the home first. */
  all(): Conversation[] {
    const home = this.home;
    return home ? [home, ...[...this.byId.values()].filter((c) => c !== home)] : [...this.byId.values()];
  }

  /** How many conversations it is in (at least one for the budget's shares). */
  get count(): number {
    return this.byId.size;
  }

  /** Whether `conversationId` is one of its conversations. */
  has(conversationId: string): boolean {
    return this.byId.has(conversationId);
  }

  /** Its conversations as its workspace has them (a start): kept; the home's state returned. */
  async load(): Promise<ConversationState | undefined> {
    const ws = this.agent.ws;
    const list = await readConversations(ws);
    this.clear();
    if (!list) return undefined;
    for (const entry of list.conversations) {
      if (entry.state === "leaving") continue;
      const saved = await ws.readJson<SavedConversationState>(conversationFile(entry.conversationId, "state"));
      this.put(conversationOf(entry, saved), entry.tools);
    }
    this.homeId = this.byId.has(list.home) ? list.home : undefined;
    return this.home?.current;
  }

  /** Its home read and checked by the caller (a dormant start). */
  restore(convo: ConversationState): void {
    this.clear();
    this.put(convo);
    this.homeId = convo.conversationId;
  }

  /** Joined its home (claim.ts) with `invite`: its files written (files.ts) and kept, then it listens there. */
  async begin(convo: ConversationState, group: AgentGroup, invite: string): Promise<void> {
    await writeJoinedHome(this.agent.ws, convo, invite);
    this.clear();
    const c = this.put(convo);
    this.homeId = convo.conversationId;
    await c.listen(group);
  }

  /** Joined another conversation (an owner's AddConversation): its files written and kept, then it listens there. */
  async add(
    convo: ConversationState,
    group: AgentGroup,
    invite: string,
    entry: { tools: ConversationTools; addition: JsonValue },
  ): Promise<Conversation> {
    await writeJoined(this.agent.ws, convo, invite, entry);
    const c = this.put(convo, entry.tools);
    await c.listen(group);
    return c;
  }

  /**
   * Leaves `conversationId` (an owner's LeaveConversation), `home` the home
   * from now on: its stream ended, its turns let finish (they find it gone),
   * its removal asked of the group, its files and what it held of that
   * conversation's people gone.
   */
  async leave(conversationId: string, home: string): Promise<void> {
    const c = this.byId.get(conversationId);
    if (!c) return;
    const group = c.group;
    await c.endStream();
    c.letGo();
    c.forget();
    this.byId.delete(conversationId);
    this.homeId = home;
    await writeLeft(this.agent.ws, conversationId, home);
    await group
      ?.requestRemoval()
      .catch((err: unknown) => this.agent.log.warn("could not ask to leave the conversation", { conversationId, err }));
  }

  /** A new claim (Configure): no conversation of an earlier one. */
  async reset(): Promise<void> {
    await removeConversations(this.agent.ws);
    this.clear();
  }

  /** After a restart or a wake: every conversation found again, what came meanwhile answered. */
  async resume(): Promise<void> {
    for (const c of this.all()) await c.resume();
  }

  /** Lets go of every group (a Release, a stop, a sleep). */
  letGo(): void {
    for (const c of this.byId.values()) c.letGo();
  }

  async endStreams(): Promise<void> {
    await Promise.all([...this.byId.values()].map((c) => c.endStream()));
  }

  /** A Release: no conversation, nothing of any kept. */
  forget(): void {
    for (const c of this.byId.values()) c.forget();
    this.clear();
  }

  /** Forgets which messages each handled (a sleep: a wake reads from each cursor). */
  forgetHandled(): void {
    for (const c of this.byId.values()) c.forgetHandled();
  }

  /** A text to its number (the host's SMS webhook): a turn in its home, until texts are routed by conversation. */
  inboundText(t: InboundTextTurn): void {
    this.home?.inboundText(t);
  }

  private put(convo: ConversationState, tools: ConversationTools = "shared"): Conversation {
    const c = new Conversation(this.agent, this, convo, tools);
    c.onOthersJoined = () => this.onOthersJoined?.(c) ?? Promise.resolve();
    this.byId.set(convo.conversationId, c);
    return c;
  }

  private clear(): void {
    this.byId.clear();
    this.homeId = undefined;
  }
}
