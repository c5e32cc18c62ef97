// The agent's side of dormancy (the host's side, the watch that wakes it, is
// host/group-watch.ts; docs/instance.md, "Dormancy"). A claimed agent quiet for a
// while closes its client and drops its memory, keeping its workspace, and
// asks the watch to wake it on the next message in any of its groups (one
// cursor per conversation, one wake for them all); a message in one of
// them, or a call, wakes it: its client again, then every conversation as
// after a restart.

import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { inSpan } from "@convos-pool/kit/server";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { FILES, type InstanceRecord } from "../../platform/workspace.js";
import type { Parts } from "./parts.js";
import type { DormancyWatch } from "./deps.js";
import { withTimeout } from "../turns/serial.js";
import type { AgentGroup } from "../../platform/xmtp.js";
import type { Conversation } from "../conversation/listening.js";
import type { InstanceConfig } from "../state/settings.js";

/** Where the host's watch of one of its groups starts. */
export interface DormantCursor {
  conversationId: string;
  /** The node's newest message id of its group before it last synced (decimal). */
  cursor: string;
}

/** dormant.json: it is dormant; where the host's watch of each of its groups starts, one cursor per conversation. */
export interface DormantFile {
  conversations: DormantCursor[];
  since: string;
}

/** dormant.json as a host of one conversation per agent wrote it: read as a list of one. */
export interface OneCursorFile {
  conversationId: string;
  cursor: string;
  since: string;
}

/**
 * The cursors of a dormant.json of either form, when they are one per
 * conversation of `conversationIds` (its conversations.json), each a
 * decimal id; none otherwise: a conversation without a cursor would go
 * unwatched, so it starts awake and reads them all. Pure.
 */
export function cursorsFor(
  file: DormantFile | OneCursorFile,
  conversationIds: readonly string[],
): { conversationId: string; cursor: bigint }[] | undefined {
  const listed =
    "conversations" in file && Array.isArray(file.conversations) ? file.conversations : [file as OneCursorFile];
  const cursors = new Map<string, bigint>();
  for (const c of listed) {
    if (typeof c?.conversationId !== "string" || typeof c.cursor !== "string" || !/^\d+$/.test(c.cursor))
      return undefined;
    cursors.set(c.conversationId, BigInt(c.cursor));
  }
  if (conversationIds.length === 0 || cursors.size !== conversationIds.length) return undefined;
  const out = [];
  for (const conversationId of conversationIds) {
    const cursor = cursors.get(conversationId);
    if (cursor === undefined) return undefined;
    out.push({ conversationId, cursor });
  }
  return out;
}

/**
 * Watches each group from its cursor with one wake between them: the first
 * message in any unwatches the others and calls `wake`, once, even when two
 * groups are delivered together.
 */
export function watchAll(
  watch: DormancyWatch,
  cursors: readonly { conversationId: string; cursor: bigint }[],
  wake: () => void,
): void {
  let woken = false;
  const once = () => {
    if (woken) return;
    woken = true;
    for (const c of cursors) watch.unwatch(c.conversationId);
    wake();
  };
  for (const c of cursors) watch.watch(c.conversationId, c.cursor, once);
}

/** What going dormant needs, once it may: each conversation with its group. */
interface Sleeper {
  watch: DormancyWatch;
  groups: { conversationId: string; conversation: Conversation; group: AgentGroup }[];
}

/** Its presence in the workspace: it is dormant (a DormantFile). */
export const DORMANT_FILE = "dormant.json";

export class Dormancy {
  constructor(private readonly agent: Parts) {}

  /**
   * Whether it may go dormant now: claimed, quiet `afterMs`, and nothing that
   * needs its client running. What sleeping needs, when it may.
   */
  private sleepable(afterMs: number, insideOps: boolean): Sleeper | undefined {
    const agent = this.agent;
    const { status, conversations } = agent;
    const { dormancy } = agent.deps;
    const { config } = agent.settings;
    if (!dormancy || status.stopped || status.state !== InstanceState.CLAIMED || !status.client) return undefined;
    const groups: Sleeper["groups"] = [];
    for (const conversation of conversations.all()) {
      const { id: conversationId, group } = conversation;
      // Every conversation is watched while it sleeps: each must be listening there now.
      if (!conversationId || !group) return undefined;
      groups.push({ conversationId, conversation, group });
    }
    if (!config || groups.length === 0) return undefined;
    if (Date.now() - status.lastActive < afterMs) return undefined;
    // A turn or a call in progress; a tool call waiting for the owner is a turn in progress.
    if (agent.turns.pending > 0 || agent.ops.pending > (insideOps ? 1 : 0)) return undefined;
    // A question of its own waiting outside its turns (a save to its address book) hears its answer awake only.
    if (agent.toolbox.waitingForOwner) return undefined;
    // A clone waiting for its summary, and the groups of abandoned invites, are streams of their own.
    if (agent.inheritance.waiting) return undefined;
    // An abandoned invite of a conversation it is in names a group it is never asked to leave: nothing to
    // watch for there (an agent added to a conversation before state/invites.ts kept added invites apart
    // has its home's invite among the abandoned).
    const inviteTags = new Set(groups.map((g) => g.conversation.current?.inviteTag));
    const watching = agent.invites.abandoned.filter((a) => !inviteTags.has(a.tag));
    if (watching.some((a) => Date.parse(a.until) > Date.now())) return undefined;
    // Its mailbox is polled while it is awake; asleep, mail would go unnoticed.
    if (config.tools.some((t) => t.toolId === "email") && agent.toolbox.level >= TrustLevel.ADVISOR) return undefined;
    return { watch: dormancy.watch, groups };
  }

  /** The host's sweep: goes dormant if it may and has been quiet `afterMs`. True when it did. */
  async sleepIfQuiet(afterMs: number): Promise<boolean> {
    if (!this.sleepable(afterMs, false)) return false;
    return this.agent.ops.run(async () => {
      const sleeper = this.sleepable(afterMs, true);
      return sleeper !== undefined && (await this.sleep(sleeper));
    });
  }

  /**
   * Closes its client and drops its memory, keeping its workspace, and asks
   * the host's watch to wake it on the next message in any of its groups.
   * Each group's cursor is taken before that group's last sync: whatever came
   * up to it is read here (and if any of it is new, in any conversation, it
   * stays awake to handle it), whatever comes after wakes it.
   */
  private async sleep({ watch, groups }: Sleeper): Promise<boolean> {
    const agent = this.agent;
    const { status, conversations } = agent;
    await conversations.endStreams();
    await withTimeout(agent.turns.idle(), 10_000);
    let cursors: { conversationId: string; cursor: bigint }[];
    try {
      cursors = await Promise.all(
        groups.map(async ({ conversationId, group }) => {
          const cursor = await watch.newest(conversationId);
          await group.sync();
          return { conversationId, cursor };
        }),
      );
    } catch (err) {
      // One group unread is one group that could miss a message asleep: awake, in all of them.
      agent.log.warn("could not go dormant: the XMTP node did not answer", { err });
      await conversations.resume();
      return false;
    }
    let missed = 0;
    for (const { conversation, group } of groups) missed += await conversation.unhandled(group);
    if (missed > 0 || agent.turns.pending > 0) {
      // Something came at the last moment: it is handled awake, and it listens again everywhere.
      await conversations.resume();
      return false;
    }
    await agent.ws.writeJson(DORMANT_FILE, {
      conversations: cursors.map((c) => ({ conversationId: c.conversationId, cursor: c.cursor.toString() })),
      since: new Date().toISOString(),
    } satisfies DormantFile);
    conversations.letGo();
    const client = status.disconnect();
    agent.toolbox.close();
    await agent.invites.stop();
    await status.close(client);
    // Its thinker sleeps too (an OpenClaw gateway: a gigabyte freed), its files kept.
    await agent.deps.runtime?.rest(agent);
    agent.memory.drop();
    agent.forgetNonces();
    conversations.forgetHandled();
    // Stopped meanwhile (StopInstance, the host closing): stopped it stays, unwatched.
    if (status.stopped) return false;
    status.dormant();
    this.watchGroups(watch, cursors);
    agent.log.info("instance dormant", {
      conversations: cursors.map((c) => c.conversationId),
      quietMs: Date.now() - status.lastActive,
    });
    return true;
  }

  /** Each group watched from its cursor; a message in any wakes it, once. */
  private watchGroups(watch: DormancyWatch, cursors: readonly { conversationId: string; cursor: bigint }[]): void {
    watchAll(watch, cursors, () => {
      void this.agent.ops
        .run(() => this.awaken("a message"))
        .catch((err: unknown) => this.agent.log.error("waking for a message failed", { err }));
    });
  }

  /** At start: dormant when it went dormant before the host stopped (and the host still puts agents to sleep). */
  async restore(record: InstanceRecord): Promise<boolean> {
    const agent = this.agent;
    const dormant = await agent.ws.readJson<DormantFile | OneCursorFile>(DORMANT_FILE);
    const { dormancy } = agent.deps;
    if (!dormant || !dormancy) return false;
    const config = await agent.ws.readJson<InstanceConfig>(FILES.config);
    // Its conversations as conversations.json lists them, each with its state (the awake start loads them again).
    const home = config ? await agent.conversations.load() : undefined;
    const ids = agent.conversations.all().flatMap((c) => (c.id ? [c.id] : []));
    const cursors = home ? cursorsFor(dormant, ids) : undefined;
    if (!config || !cursors) {
      await agent.ws.remove(DORMANT_FILE);
      return false;
    }
    agent.status.knownAs(record.inboxId);
    agent.settings.restore(config);
    agent.status.dormant();
    this.watchGroups(dormancy.watch, cursors);
    return true;
  }

  /**
   * Wakes a dormant agent (inside `ops`): its client again, its memory and
   * tools from the workspace, then every conversation as after a restart
   * (resume: a sync, the stream, and an answer to what came while it slept).
   */
  awaken(why: string): Promise<void> {
    return inSpan("agent.wake", { "pool.instance_id": this.agent.id, "pool.wake_reason": why }, () => this.wake(why));
  }

  private async wake(why: string): Promise<void> {
    const agent = this.agent;
    const { status, conversations } = agent;
    if (status.state !== InstanceState.DORMANT || status.stopped) return;
    const started = performance.now();
    const ids = conversations.all().flatMap((c) => (c.id ? [c.id] : []));
    if (ids.length === 0) throw new Error(`dormant instance ${agent.id} has no conversation to wake in`);
    // Woken by a call, or by a message in one group: none of its groups is watched any longer.
    for (const id of ids) agent.deps.dormancy?.watch.unwatch(id);
    try {
      const client = await status.connect();
      const config = (await agent.ws.readJson<InstanceConfig>(FILES.config)) ?? agent.settings.config;
      if (!config) throw new Error(`dormant instance ${agent.id} has no config.json`);
      agent.settings.restore(config);
      await agent.loadClaim(config);
      // Its thinker's files written again and its gateway starting (or a warm one taking it), as after a restart.
      await agent.deps.runtime?.apply(agent);
      status.active();
      await conversations.resume();
      if (status.stopped) {
        // Stopped while it woke: the client stop() did not see is closed here, and it stays dormant on disk.
        await conversations.endStreams();
        status.disconnect();
        conversations.letGo();
        await status.close(client);
        return;
      }
      await agent.ws.remove(DORMANT_FILE);
      await agent.invites.open(client);
    } catch (err) {
      status.crashed(err);
      agent.log.error("a dormant instance could not wake", { err });
      throw err;
    }
    const ms = performance.now() - started;
    agent.deps.dormancy?.woke?.(ms / 1000);
    agent.log.info("instance woke", { for: why, ms: Math.round(ms) });
  }
}
