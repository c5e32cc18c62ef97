// An agent's life on its host: started (its workspace, wallet and XMTP
// client; its conversation resumed if it had one), ready for calls, released
// from a claim back to IDLE, stopped. The states are InstanceState's
// (instance.ts lists them).

import { failedPrecondition } from "@convos-pool/kit";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { NO_SHARING } from "../memory/sharing.js";
import { FILES, type InstanceRecord } from "../platform/workspace.js";
import type { Conversation } from "./conversation.js";
import { DORMANT_FILE, type AgentDormancy } from "./dormancy.js";
import type { Inheritance } from "./inheritance.js";
import { withTimeout, type AgentState } from "./state.js";
import type { ConversationState, InstanceConfig } from "./types.js";

/** What a Release wipes: everything of the claim; the instance's record, XMTP database and invites stay. */
const CLAIM_FILES = [
  FILES.config,
  FILES.credentials,
  FILES.memory,
  FILES.memoryCredentials,
  FILES.state,
  FILES.identity,
  FILES.inheritance,
  FILES.sharing,
  FILES.participation,
  FILES.patterns,
  FILES.outsideWords,
];

export class Lifecycle {
  /** Settles when the last start did (a failed one rejects it). */
  ready: Promise<void> = Promise.resolve();

  constructor(
    private readonly agent: AgentState,
    private readonly conversation: Conversation,
    private readonly inheritance: Inheritance,
    private readonly dormancy: AgentDormancy,
  ) {}

  /** Creates (or reopens) its workspace and XMTP client; resumes its conversation if it had one. */
  start(): Promise<void> {
    const agent = this.agent;
    agent.state = InstanceState.STARTING;
    agent.failure = undefined;
    agent.stopped = false;
    this.ready = agent.ops.run(async () => {
      try {
        await this.open();
      } catch (err) {
        agent.crashed(err);
        agent.log.error("instance failed to start", { err });
        throw err;
      }
    });
    return this.ready;
  }

  private async open(): Promise<void> {
    const agent = this.agent;
    if (agent.client) {
      // Started again after a crash: what the failed start opened goes first.
      await agent.invites.stop();
      await this.conversation.endStream();
      await this.inheritance.endSummaryStream();
      await agent.closeClient(agent.client);
      agent.client = undefined;
    }
    await agent.ws.create();
    const record = await agent.ws.readJson<InstanceRecord>(FILES.instance);
    if (record && record.walletIndex !== agent.walletIndex) {
      throw failedPrecondition(`instance ${agent.id} has wallet index ${record.walletIndex}, not ${agent.walletIndex}`);
    }
    agent.wallet = agent.deps.seed.wallet(agent.walletIndex);
    const started = performance.now();
    agent.lastActive = Date.now();
    if (record && (await this.dormancy.restore(record))) {
      agent.log.info("instance started", {
        inboxId: agent.inboxId,
        walletIndex: agent.walletIndex,
        state: "DORMANT",
        ms: Math.round(performance.now() - started),
      });
      return;
    }
    agent.client = await agent.openClient();
    agent.inboxId = agent.client.inboxId;
    await agent.ws.writeJson(FILES.instance, {
      instanceId: agent.id,
      walletIndex: agent.walletIndex,
      address: agent.wallet.address,
      inboxId: agent.inboxId,
      createdAt: record?.createdAt ?? new Date().toISOString(),
    } satisfies InstanceRecord);

    agent.config = await agent.ws.readJson<InstanceConfig>(FILES.config);
    if (!agent.config) {
      agent.state = InstanceState.IDLE;
    } else {
      agent.convo = await agent.ws.readJson<ConversationState>(FILES.state);
      await agent.loadConfigured(agent.config);
      await agent.deps.runtime?.apply(agent);
      agent.state = InstanceState.CLAIMING;
      if (agent.convo) {
        await this.conversation.resume(agent.convo);
        await this.inheritance.awaitSummary();
      }
    }
    // Dormant when a host without dormancy stopped: awake now, and stays so.
    await agent.ws.remove(DORMANT_FILE);
    await agent.invites.open(agent.client);
    agent.log.info("instance started", {
      inboxId: agent.inboxId,
      walletIndex: agent.walletIndex,
      state: InstanceState[agent.state],
      ms: Math.round(performance.now() - started),
    });
  }

  /** Before a call (inside `ops`): started, not crashed or stopped; a dormant one wakes for it. */
  async ensureReady(): Promise<void> {
    const agent = this.agent;
    await this.ready.catch(() => undefined);
    if (agent.state === InstanceState.DORMANT && !agent.stopped) await this.dormancy.awaken("a call");
    if (agent.state === InstanceState.CRASHED)
      throw failedPrecondition(`instance ${agent.id} crashed: ${agent.failure ?? "unknown"}`);
    if (agent.stopped || !agent.client) throw failedPrecondition(`instance ${agent.id} is stopped`);
    agent.lastActive = Date.now();
  }

  /** Forgets the claim (inside `ops`, ready): leaves the conversation, wipes config, credentials, memory; back to IDLE. */
  async release(): Promise<void> {
    const agent = this.agent;
    const group = agent.group;
    await this.conversation.endStream();
    await this.inheritance.endSummaryStream();
    agent.group = undefined;
    await withTimeout(agent.turns.idle(), 10_000);
    if (group) {
      try {
        await group.requestRemoval();
      } catch (err) {
        agent.log.warn("could not ask to leave the conversation", { conversationId: group.id, err });
      }
    }
    await agent.toolbox.release();
    await agent.deps.runtime?.release(agent);
    for (const f of CLAIM_FILES) await agent.ws.remove(f);
    agent.config = undefined;
    agent.patternSharing = { ...NO_SHARING };
    agent.inheritance = undefined;
    agent.memory = undefined;
    agent.convo = undefined;
    agent.group = undefined;
    this.conversation.forgetHandled();
    // A join request the creator has not answered yet outlives the claim: leave its conversation when it does.
    await agent.invites.release();
    agent.state = InstanceState.IDLE;
    agent.log.info("instance released", {
      leftConversation: group?.id,
      abandonedInvites: agent.invites.abandoned.length,
    });
  }

  /** Stops answering and closes its client; the workspace stays (the host destroys it: host/host.ts). */
  async stop(opts: { markStopped?: boolean } = {}): Promise<void> {
    const agent = this.agent;
    agent.stopped = true;
    await this.ready.catch(() => undefined);
    if (agent.convo) agent.deps.dormancy?.watch.unwatch(agent.convo.conversationId);
    agent.toolbox.close();
    await agent.invites.stop();
    await this.conversation.endStream();
    await this.inheritance.endSummaryStream();
    await withTimeout(agent.turns.idle(), 5_000);
    const client = agent.client;
    agent.client = undefined;
    agent.group = undefined;
    agent.state = InstanceState.DEAD;
    // A call in progress (a Release of a removed agent) finishes before its workspace goes.
    await withTimeout(agent.ops.idle(), 15_000);
    await agent.closeClient(client);
    await agent.deps.runtime?.stop(agent);
    if (opts.markStopped) {
      const record = await agent.ws.readJson<InstanceRecord>(FILES.instance);
      if (record) await agent.ws.writeJson(FILES.instance, { ...record, stopped: true });
    }
  }
}
