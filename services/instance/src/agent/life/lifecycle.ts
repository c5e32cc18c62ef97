// An agent's life on its host: started (its workspace, wallet and XMTP
// client; its conversation resumed if it had one), ready for calls, released
// from a claim back to IDLE, stopped. The states are InstanceState's
// (face/agent.ts lists them), kept by state/status.ts; here they are
// driven, each piece of the agent asked to load, end or forget what it holds.

import { failedPrecondition } from "@convos-pool/kit/content";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { FILES, type InstanceRecord } from "../../platform/workspace.js";
import type { Parts } from "./parts.js";
import { DORMANT_FILE, type Dormancy } from "./dormancy.js";
import { withTimeout } from "../turns/serial.js";
import { removeConversations } from "../conversation/files.js";
import { migrateWorkspace } from "../conversation/migration.js";

/**
 * What a Release wipes: everything of the claim, its conversations' files
 * too (conversation/files.ts); the instance's record, XMTP database and
 * invites stay.
 */
const CLAIM_FILES = [
  FILES.config,
  FILES.credentials,
  FILES.memory,
  FILES.memoryCredentials,
  FILES.identity,
  FILES.inheritance,
  FILES.sharing,
  FILES.patterns,
  // A workspace of before's, if its start left any (conversation/migration.ts moves them only with a state.json).
  FILES.state,
  FILES.join,
  FILES.participation,
  FILES.outsideWords,
];

export class Lifecycle {
  private lastStart: Promise<void> = Promise.resolve();
  /** Its last start found it moved here and not yet back in its conversation (host/restore.ts). */
  rejoining = false;

  constructor(
    private readonly agent: Parts,
    private readonly dormancy: Dormancy,
  ) {}

  /** Creates (or reopens) its workspace and XMTP client; resumes its conversation if it had one. */
  start(): Promise<void> {
    const agent = this.agent;
    agent.status.starting();
    this.lastStart = agent.ops.run(async () => {
      try {
        await this.open();
      } catch (err) {
        agent.status.crashed(err);
        agent.log.error("instance failed to start", { err });
        throw err;
      }
    });
    return this.lastStart;
  }

  /** Settles when the last start did (a failed one rejects it). */
  get ready(): Promise<void> {
    return this.lastStart;
  }

  private async open(): Promise<void> {
    const agent = this.agent;
    const { status, conversations, inheritance } = agent;
    if (status.client) {
      // Started again after a crash: what the failed start opened goes first.
      await agent.invites.stop();
      await conversations.endStreams();
      await inheritance.endSummaryStream();
      await status.close(status.disconnect());
    }
    await agent.ws.create();
    this.rejoining = false;
    const record = await agent.ws.readJson<InstanceRecord>(FILES.instance);
    if (record && record.walletIndex !== agent.walletIndex) {
      throw failedPrecondition(`instance ${agent.id} has wallet index ${record.walletIndex}, not ${agent.walletIndex}`);
    }
    status.useWallet();
    const started = performance.now();
    status.active();
    // A workspace of before conversations.json (or a state sealed then and restored here): its one conversation
    // becomes its home, before anything reads it, a dormant start included.
    const moved = await migrateWorkspace(agent.ws, (id) => agent.memory.stampConversation(id));
    if (moved.length > 0) agent.log.info("workspace moved to one folder per conversation", { steps: moved.length });
    if (record && (await this.dormancy.restore(record))) {
      agent.log.info("instance started", {
        inboxId: status.inboxId,
        walletIndex: agent.walletIndex,
        state: "DORMANT",
        ms: Math.round(performance.now() - started),
      });
      return;
    }
    // Its key from the keys service: a refusal (it runs on another host now) fails the start.
    const wallet = (await status.walletNow()) ?? status.mustWallet();
    const client = await status.connect();
    await agent.ws.writeJson(FILES.instance, {
      instanceId: agent.id,
      walletIndex: agent.walletIndex,
      address: wallet.address,
      inboxId: status.inboxId,
      createdAt: record?.createdAt ?? new Date().toISOString(),
    } satisfies InstanceRecord);

    const config = await agent.settings.loadConfig();
    if (!config) {
      status.idle();
    } else {
      const convo = await conversations.load();
      await agent.loadClaim(config);
      await agent.deps.runtime?.apply(agent);
      if (convo && (await agent.ws.readJson(FILES.moved))) {
        // Restored from a lost host: a new installation, not yet in its group. It stays STARTING
        // while it asks to be let back in (Claim.rejoin, after this start).
        this.rejoining = true;
      } else if (convo) {
        status.claiming();
        await conversations.resume();
        await inheritance.awaitSummary();
      } else {
        status.claiming();
      }
    }
    // Dormant when a host without dormancy stopped: awake now, and stays so.
    await agent.ws.remove(DORMANT_FILE);
    await agent.invites.open(client);
    agent.log.info("instance started", {
      inboxId: status.inboxId,
      walletIndex: agent.walletIndex,
      state: InstanceState[status.state],
      ms: Math.round(performance.now() - started),
    });
  }

  /** Before a call (inside `ops`): started, not crashed or stopped; a dormant one wakes for it. */
  async ensureReady(): Promise<void> {
    const { id, status } = this.agent;
    await this.ready.catch(() => undefined);
    if (status.state === InstanceState.DORMANT && !status.stopped) await this.dormancy.awaken("a call");
    if (status.state === InstanceState.CRASHED)
      throw failedPrecondition(`instance ${id} crashed: ${status.failure ?? "unknown"}`);
    if (status.stopped || !status.client) throw failedPrecondition(`instance ${id} is stopped`);
    status.active();
  }

  /** Forgets the claim (inside `ops`, ready): leaves every conversation, wipes config, credentials, memory; back to IDLE. */
  async release(): Promise<void> {
    const agent = this.agent;
    const { conversations, inheritance } = agent;
    const groups = conversations.all().flatMap((c) => (c.group ? [c.group] : []));
    await conversations.endStreams();
    await inheritance.endSummaryStream();
    conversations.letGo();
    await withTimeout(agent.turns.idle(), 10_000);
    for (const group of groups) {
      try {
        await group.requestRemoval();
      } catch (err) {
        agent.log.warn("could not ask to leave the conversation", { conversationId: group.id, err });
      }
    }
    await agent.toolbox.release();
    await agent.scheduling.release();
    await agent.ownerLine.forget();
    await agent.deps.runtime?.release(agent);
    for (const f of CLAIM_FILES) await agent.ws.remove(f);
    await removeConversations(agent.ws);
    agent.settings.forget();
    inheritance.forget();
    agent.memory.drop();
    // What people's phones shared and owners left open there was for that conversation: it goes with it.
    conversations.forget();
    // A join request the creator has not answered yet outlives the claim: leave its conversation when it does.
    await agent.invites.release();
    agent.status.idle();
    agent.log.info("instance released", {
      leftConversations: groups.map((g) => g.id),
      abandonedInvites: agent.invites.abandoned.length,
    });
  }

  /** Stops answering and closes its client; the workspace stays (the host destroys it: host/host.ts). */
  async stop(opts: { markStopped?: boolean } = {}): Promise<void> {
    const agent = this.agent;
    const { status, conversations } = agent;
    status.stop();
    await this.ready.catch(() => undefined);
    for (const c of conversations.all()) if (c.id) agent.deps.dormancy?.watch.unwatch(c.id);
    agent.toolbox.close();
    await agent.invites.stop();
    await conversations.endStreams();
    await agent.inheritance.endSummaryStream();
    await withTimeout(agent.turns.idle(), 5_000);
    const client = status.disconnect();
    conversations.letGo();
    status.dead();
    // A call in progress (a Release of a removed agent) finishes before its workspace goes.
    await withTimeout(agent.ops.idle(), 15_000);
    await status.close(client);
    await agent.deps.runtime?.stop(agent);
    if (opts.markStopped) {
      const record = await agent.ws.readJson<InstanceRecord>(FILES.instance);
      if (record) await agent.ws.writeJson(FILES.instance, { ...record, stopped: true });
    }
  }
}
