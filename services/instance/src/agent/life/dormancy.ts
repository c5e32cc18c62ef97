// The agent's side of dormancy (the host's side, the watch that wakes it, is
// host/group-watch.ts; docs/instance.md, "Dormancy"). A claimed agent quiet for a
// while closes its client and drops its memory, keeping its workspace, and
// asks the watch to wake it on the next message in its group; a message
// there, or a call, wakes it: its client again, then its conversation as
// after a restart.

import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { inSpan } from "@convos-pool/kit/server";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { FILES, type InstanceRecord } from "../../platform/workspace.js";
import type { Parts } from "./parts.js";
import type { DormancyWatch } from "./deps.js";
import { withTimeout } from "../turns/serial.js";
import type { AgentGroup } from "../../platform/xmtp.js";
import type { Conversation, ConversationState } from "../conversation/listening.js";
import { readHome } from "../conversation/files.js";
import type { InstanceConfig } from "../state/settings.js";

/** dormant.json: it is dormant; where the host's watch of its group starts. */
export interface DormantFile {
  conversationId: string;
  /** The node's newest message id of its group before it last synced (decimal). */
  cursor: string;
  since: string;
}

/** What going dormant needs, once it may. */
interface Sleeper {
  watch: DormancyWatch;
  group: AgentGroup;
  convo: ConversationState;
  conversation: Conversation;
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
    // It sleeps with one cursor: an agent in several conversations stays awake.
    const conversation = conversations.count === 1 ? conversations.home : undefined;
    const group = conversation?.group;
    const convo = conversation?.current;
    if (!dormancy || status.stopped || status.state !== InstanceState.CLAIMED || !status.client) return undefined;
    if (!config || !group || !convo || !conversation) return undefined;
    if (Date.now() - status.lastActive < afterMs) return undefined;
    // A turn or a call in progress; a tool call waiting for the owner is a turn in progress.
    if (agent.turns.pending > 0 || agent.ops.pending > (insideOps ? 1 : 0)) return undefined;
    // A question of its own waiting outside its turns (a save to its address book) hears its answer awake only.
    if (agent.toolbox.waitingForOwner) return undefined;
    // A clone waiting for its summary, and the groups of abandoned invites, are streams of their own.
    if (agent.inheritance.waiting) return undefined;
    if (agent.invites.abandoned.some((a) => Date.parse(a.until) > Date.now())) return undefined;
    // Its mailbox is polled while it is awake; asleep, mail would go unnoticed.
    if (config.tools.some((t) => t.toolId === "email") && agent.toolbox.level >= TrustLevel.ADVISOR) return undefined;
    return { watch: dormancy.watch, group, convo, conversation };
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
   * the host's watch to wake it on the next message in its group. The cursor
   * is taken before a last sync: whatever came up to it is read here (and if
   * any of it is new, it stays awake to handle it), whatever comes after
   * wakes it.
   */
  private async sleep({ watch, group, convo, conversation }: Sleeper): Promise<boolean> {
    const agent = this.agent;
    const { status } = agent;
    await conversation.endStream();
    await withTimeout(agent.turns.idle(), 10_000);
    let cursor: bigint;
    try {
      cursor = await watch.newest(convo.conversationId);
      await group.sync();
    } catch (err) {
      agent.log.warn("could not go dormant: the XMTP node did not answer", { err });
      await conversation.listen(group);
      return false;
    }
    const missed = await conversation.unhandled(group);
    if (missed > 0 || agent.turns.pending > 0) {
      // Something came at the last moment: it is handled awake.
      await conversation.listen(group);
      return false;
    }
    await agent.ws.writeJson(DORMANT_FILE, {
      conversationId: convo.conversationId,
      cursor: cursor.toString(),
      since: new Date().toISOString(),
    } satisfies DormantFile);
    conversation.letGo();
    const client = status.disconnect();
    agent.toolbox.close();
    await agent.invites.stop();
    await status.close(client);
    // Its thinker sleeps too (an OpenClaw gateway: a gigabyte freed), its files kept.
    await agent.deps.runtime?.rest(agent);
    agent.memory.drop();
    agent.forgetNonces();
    conversation.forgetHandled();
    // Stopped meanwhile (StopInstance, the host closing): stopped it stays, unwatched.
    if (status.stopped) return false;
    status.dormant();
    this.watchGroup(watch, convo.conversationId, cursor);
    agent.log.info("instance dormant", {
      conversationId: convo.conversationId,
      quietMs: Date.now() - status.lastActive,
    });
    return true;
  }

  private watchGroup(watch: DormancyWatch, conversationId: string, cursor: bigint): void {
    watch.watch(conversationId, cursor, () => {
      void this.agent.ops
        .run(() => this.awaken("a message"))
        .catch((err: unknown) => this.agent.log.error("waking for a message failed", { err }));
    });
  }

  /** At start: dormant when it went dormant before the host stopped (and the host still puts agents to sleep). */
  async restore(record: InstanceRecord): Promise<boolean> {
    const agent = this.agent;
    const dormant = await agent.ws.readJson<DormantFile>(DORMANT_FILE);
    const { dormancy } = agent.deps;
    if (!dormant || !dormancy) return false;
    const config = await agent.ws.readJson<InstanceConfig>(FILES.config);
    const convo = await readHome(agent.ws);
    if (!config || convo?.conversationId !== dormant.conversationId) {
      await agent.ws.remove(DORMANT_FILE);
      return false;
    }
    agent.status.knownAs(record.inboxId);
    agent.settings.restore(config);
    agent.conversations.restore(convo);
    agent.status.dormant();
    this.watchGroup(dormancy.watch, dormant.conversationId, BigInt(dormant.cursor));
    return true;
  }

  /**
   * Wakes a dormant agent (inside `ops`): its client again, its memory and
   * tools from the workspace, then its conversation as after a restart
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
    const convo = conversations.home?.current;
    if (!convo) throw new Error(`dormant instance ${agent.id} has no conversation to wake in`);
    agent.deps.dormancy?.watch.unwatch(convo.conversationId);
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
