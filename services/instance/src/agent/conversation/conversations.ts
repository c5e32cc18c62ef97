// The agent's conversations: its home (the one it was claimed into) and
// those its owner added it to, each a Conversation (listening.ts). The only
// owner of conversations.json (through files.ts): what it loads at a start,
// what a join or a leave writes.
//
// A turn runs within its conversation (listening.ts `within`, one
// AsyncLocalStorage for every agent of the host): what
// the agent's rooms reach while it runs (the voice a tool speaks with, the
// phones a turn reads, the participation it answers under, where a question
// to the owner is asked) is that conversation's, however deep the call and
// across the waits of a parked turn. A mail noticed is told within the
// conversation whose mail it answers (tools/routing/policy.ts); outside any turn
// (a call of the pool) it is the home. Passing the conversation down every
// call of the toolbox and the gate would say the same with many more
// signatures; a turn that forgot to pass it would speak in the home.
//
// The agent hears through one stream (docs/instance.md, "One stream"):
// every group its client is in, each message handed by its conversation id
// to that conversation, to a tap (the direct line while a question waits,
// voice/direct.ts), or, in a group that is none of these (someone added the
// inbox to it), to a clone waiting for its parent's summary
// (life/inheritance.ts) and otherwise to no one, unread.

import type { AgentGroup, AgentMessage } from "../../platform/xmtp.js";
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
import { Conversation, turnRunningIn, within, type ConversationParts } from "./listening.js";
import { conversationFile } from "../../platform/workspace.js";
import type { InboundTextTurn } from "../../model/turn.js";
import { textForOwnerAlone } from "./policy.js";

/** What the agent's stream feeds besides its conversations: the direct line, a clone's wait. */
export interface StreamTap {
  /** A message of what it listens to. */
  heard(m: AgentMessage): void;
  /** The stream came back after a break: what was said meanwhile is in the local database, not in the stream. */
  restarted(): void;
}

/** ConversationType.Group (a const enum of the bindings): Convos conversations are groups; its join requests' DMs are not heard. */
const GROUPS = 1 as never;

export class Conversations {
  private readonly byId = new Map<string, Conversation>();
  /** The agent's one stream while it is awake, and the groups its client knew when it opened (it carries those for sure). */
  private stream: { end(): unknown } | undefined;
  private covered = new Set<string>();
  /** Opens of the stream, one at a time. */
  private opening: Promise<unknown> = Promise.resolve();
  /** Counts `endStreams`: an open that began before one ends what it opened. */
  private ended = 0;
  /** Groups tapped by id (the direct line), and taps of every group none of its own (a clone's wait). */
  private readonly taps = new Map<string, StreamTap>();
  private readonly others = new Set<StreamTap>();
  private homeId: string | undefined;
  /** Where it is while in none (idle, released): its voice goes nowhere, its pieces hold nothing. */
  private readonly none: Conversation;

  /** Says its own profile again in a conversation where others joined (face/profile.ts): set by the agent (face/agent.ts). */
  onOthersJoined: ((c: Conversation) => Promise<void>) | undefined;

  constructor(private readonly agent: ConversationParts) {
    this.none = new Conversation(agent, this);
  }

  /** `job` as a turn of `c`: the conversation the agent's rooms reach while it runs (listening.ts). */
  within<T>(c: Conversation, job: () => Promise<T>): Promise<T> {
    return within(c, job);
  }

  /** The conversation of the turn running now; outside any turn its home; in none, a conversation of no group. */
  get here(): Conversation {
    return turnRunningIn(this) ?? this.home ?? this.none;
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
   * from now on: its group no longer heard, its turns let finish (they find it gone),
   * its removal asked of the group, its files and what it held of that
   * conversation's people gone.
   */
  async leave(conversationId: string, home: string): Promise<void> {
    const c = this.byId.get(conversationId);
    if (!c) return;
    const group = c.group;
    // The stream carries its group until the removal is done: unread from now on.
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

  /** After a restart or a wake: every conversation found again, the stream open, what came meanwhile answered. */
  async resume(): Promise<void> {
    // The first one opens the stream; the groups of the others are known to the client by then, so it carries them too.
    for (const c of this.all()) await c.resume();
  }

  /** Lets go of every group (a Release, a stop, a sleep). */
  letGo(): void {
    for (const c of this.byId.values()) c.letGo();
  }

  /** Ends the agent's stream (a sleep, a stop, a Release): nothing is heard until a `resume` or a listen opens it again. */
  async endStreams(): Promise<void> {
    this.ended++;
    const s = this.stream;
    this.stream = undefined;
    this.covered = new Set();
    if (s) await Promise.resolve(s.end()).catch(() => undefined);
  }

  /**
   * The agent's stream open, carrying `group` (a conversation's, the direct
   * line's), before the caller reads what came before it: opened when none
   * is, and again when `group` is newer than the stream (a join), the old
   * one ended only once the new one runs, so nothing said meanwhile falls
   * between the two.
   */
  openStream(group?: AgentGroup): Promise<void> {
    // Asked before an `endStreams`: what it would open stays closed.
    const ended = this.ended;
    const next = this.opening.then(async () => {
      if (ended !== this.ended || (this.stream && (!group || this.covered.has(group.id)))) return;
      await this.open(ended);
    });
    this.opening = next.catch(() => undefined);
    return next;
  }

  /** Messages of `group` go to `tap` (the direct line while a question waits), the stream carrying it first; the function returned stops them. */
  async tap(group: AgentGroup, tap: StreamTap): Promise<() => void> {
    this.taps.set(group.id, tap);
    const untap = () => {
      if (this.taps.get(group.id) === tap) this.taps.delete(group.id);
    };
    await this.openStream(group).catch((err: unknown) => {
      untap();
      throw err;
    });
    return untap;
  }

  /** Messages of groups none of its own go to `tap` (a clone waiting for its parent's summary); the function returned stops them. */
  async tapOthers(tap: StreamTap): Promise<() => void> {
    this.others.add(tap);
    const untap = () => void this.others.delete(tap);
    await this.openStream().catch((err: unknown) => {
      untap();
      throw err;
    });
    return untap;
  }

  private async open(ended: number): Promise<void> {
    const agent = this.agent;
    if (agent.status.stopped) return;
    const client = agent.status.mustClient();
    // Listed before the stream syncs and subscribes: what is known now, it carries.
    const known = new Set(client.conversations.listGroups().map((g) => g.id));
    const stream = await client.conversations.streamAllMessages({
      conversationType: GROUPS,
      retryDelay: agent.deps.streamRetryMs ?? 2_000,
      retryAttempts: Number.MAX_SAFE_INTEGER,
      onError: (err) => agent.log.warn("agent stream error", { err }),
      // A restarted stream syncs, then subscribes from there: what came in meanwhile is read back by each.
      onRestart: () => {
        agent.log.info("agent stream restarted");
        this.restarted();
      },
    });
    if (ended !== this.ended || agent.status.stopped) {
      // Ended (a sleep, a stop) while it opened: it stays ended.
      await Promise.resolve(stream.end()).catch(() => undefined);
      return;
    }
    const old = this.stream;
    this.stream = stream;
    this.covered = known;
    void (async () => {
      try {
        for await (const m of stream) if (m) this.dispatch(m);
      } catch (err) {
        if (this.stream === stream && !agent.status.stopped) agent.log.error("agent stream ended", { err });
      }
    })();
    if (old) await Promise.resolve(old.end()).catch(() => undefined);
  }

  /** A message to whoever hears its conversation; in a group it was not asked into, to no one but a clone's wait. */
  private dispatch(m: AgentMessage): void {
    const c = this.byId.get(m.conversationId);
    if (c) {
      c.heard(m);
      return;
    }
    const tap = this.taps.get(m.conversationId);
    if (tap) {
      tap.heard(m);
      return;
    }
    if (this.others.size === 0) {
      this.agent.log.debug("a message in a group none of its conversations: unread", {
        conversationId: m.conversationId,
      });
    }
    for (const t of this.others) t.heard(m);
  }

  private restarted(): void {
    for (const c of this.byId.values()) c.restarted();
    for (const t of [...this.taps.values(), ...this.others]) t.restarted();
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

  /**
   * A text to its number (the host's SMS webhook): a turn in the one conversation whose turns texted that number
   * (tools/routing/policy.ts) while it is still there, else in its home, where unknown senders are told; passed on to the
   * owner alone, in their direct conversation with it, when several conversations texted it.
   */
  inboundText(t: InboundTextTurn): void {
    const home = this.home;
    if (!home) return;
    void this.agent.toolbox
      .textFrom(t.from, home.id ?? "")
      .then((where) =>
        "conversation" in where
          ? (this.byId.get(where.conversation) ?? this.home)?.inboundText(t)
          : this.toOwnerAlone(t),
      )
      .catch((err: unknown) => this.agent.log.error("handling a text failed", { err }));
  }

  /** A text that may answer any of several conversations: its words to the owner alone, no turn, no model. */
  private async toOwnerAlone(t: InboundTextTurn): Promise<void> {
    const id = await this.agent.ownerLine.tell(textForOwnerAlone(t));
    if (id === undefined) this.agent.log.warn("a text for the owner alone could not reach them: not passed on");
    else this.agent.log.info("a text passed on to the owner alone: several conversations texted its number");
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
