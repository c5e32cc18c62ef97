// The instance host's two faces, as routes of their own (host/host.ts serves
// them): InstanceHostService, what the claims service asks of the host
// (start, stop, list, and the calls for many agents at once of host/batch-updates.ts
// and host/batch-claims.ts), and InstanceService, one agent's calls, the agent
// picked by the `x-pool-instance` header.
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { INSTANCE_HEADER, invalidArgument, notFound } from "@convos-pool/kit/content";
import {
  HostedConversationSchema,
  HostedInstanceSchema,
  type InstanceHostService,
} from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { AgentConversationState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { AgentRuntime } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { Agent } from "../agent/face/agent.js";
import type { LlmProvider } from "../model/turn.js";
import { answerDraft } from "./draft.js";
import { createHostClaims } from "./batch-claims.js";
import { createHostSync } from "./batch-updates.js";
import { restoreInstance, type RestoreHost } from "./restore.js";
import { MAX_WALLET_INDEX } from "../platform/keys.js";
import { FILES, INSTANCE_ID_PATTERN, Workspace, type InstanceRecord } from "../platform/workspace.js";

/** What the host's services need of the host: its agents, and how it starts one. */
export interface HostAgents extends RestoreHost {
  instances: Map<string, Agent>;
  /** Starts (or returns the running) instance; refuses a wallet index that another instance uses. */
  start(id: string, walletIndex: number): Promise<Agent>;
  /**
   * Deletes a stopped instance's workspace, or retires it while an invite
   * it asked to join could still add it somewhere (host/retiree.ts).
   */
  destroy(id: string): Promise<void>;
  /** Settled once the workspaces found at the host's start run again. */
  restored: Promise<void>;
  maxInstances: number;
  /** What thinks for its agents (ListInstances tells the pool, which places agents by it). */
  runtime: AgentRuntime;
  /** The host's model provider, which also answers the studio's test chats (draft.ts). */
  llm: LlmProvider;
}

/** The instance an InstanceService call is for, by its header; NOT_FOUND when this host does not run it. */
export function pickInstance(instances: ReadonlyMap<string, Agent>) {
  return (ctx: HandlerContext): Agent => {
    const id = ctx.requestHeader.get(INSTANCE_HEADER);
    if (!id) throw invalidArgument(INSTANCE_HEADER, "required: the id of the instance this call is for");
    const instance = instances.get(id);
    if (!instance) throw notFound(`instance ${id}`);
    return instance;
  };
}

export function createInstanceHostService(host: HostAgents): ServiceImpl<typeof InstanceHostService> {
  const { instances, log } = host;
  // One release for many of its agents at once (host/batch-updates.ts).
  const hostSync = createHostSync({ find: (id) => instances.get(id), log });
  // A claim's Configure, JoinConversation and Attest for many of its agents at once (host/batch-claims.ts).
  const hostClaims = createHostClaims({ find: (id) => instances.get(id), log });
  return {
    restoreInstance: (req) => restoreInstance(host, req),
    async tryDraft(req, ctx) {
      if (!req.content) throw invalidArgument("content", "required: the draft to answer as");
      if (req.lines.at(-1)?.fromAgent !== false) throw invalidArgument("lines", "must end with the creator's line");
      return { answer: await answerDraft(host.llm, req.content, req.lines, ctx.signal) };
    },
    async startInstance(req) {
      if (!INSTANCE_ID_PATTERN.test(req.instanceId)) {
        throw invalidArgument("instance_id", "1 to 128 letters, digits, '_' or '-', starting with a letter or digit");
      }
      if (req.walletIndex > MAX_WALLET_INDEX) throw invalidArgument("wallet_index", `at most ${MAX_WALLET_INDEX}`);
      const instance = await host.start(req.instanceId, req.walletIndex);
      return { inboxId: instance.inboxId };
    },
    async stopInstance(req) {
      const instance = instances.get(req.instanceId);
      if (!instance) {
        // Stopped earlier, or a host restart: a destroy still deletes the workspace.
        if (req.destroy && INSTANCE_ID_PATTERN.test(req.instanceId)) {
          const ws = new Workspace(host.dataDir, req.instanceId);
          if (await ws.readJson<InstanceRecord>(FILES.instance)) {
            await host.destroy(req.instanceId);
            return {};
          }
        }
        throw notFound(`instance ${req.instanceId}`);
      }
      instances.delete(req.instanceId);
      await instance.stop({ markStopped: true });
      if (req.destroy) await host.destroy(req.instanceId);
      else log.info("instance stopped", { instanceId: req.instanceId });
      return {};
    },
    updateTemplates: (req, ctx) => hostSync.updateTemplates(req, ctx.signal),
    configureInstances: (req) => hostClaims.configureInstances(req),
    joinConversations: (req, ctx) => hostClaims.joinConversations(req, ctx.signal),
    attestInstances: (req) => hostClaims.attestInstances(req),
    async listInstances() {
      // A partial list while restoring would read as instances gone: the pool would replace them.
      await host.restored;
      return {
        instances: [...instances.values()].map((i) =>
          create(HostedInstanceSchema, {
            instanceId: i.id,
            inboxId: i.inboxId,
            state: i.state,
            walletIndex: i.walletIndex,
            appliedTemplateVersion: i.appliedTemplateVersion,
            appliedBaseVersions: i.appliedBaseVersions,
            conversationName: i.conversationName,
            conversations: i.conversations.map((c) =>
              create(HostedConversationSchema, { ...c, state: AgentConversationState.JOINED }),
            ),
          }),
        ),
        // How full it is, and what its agents run on: the pool places new instances by both.
        maxInstances: host.maxInstances,
        runtime: host.runtime,
      };
    },
  };
}

export function createInstanceService(pick: (ctx: HandlerContext) => Agent): ServiceImpl<typeof InstanceService> {
  return {
    async configure(req, ctx) {
      await pick(ctx).configure(req);
      return {};
    },
    async joinConversation(req, ctx) {
      return { conversationId: await pick(ctx).joinConversation(req.conversationInvite, ctx.signal) };
    },
    async health(_req, ctx) {
      return pick(ctx).health();
    },
    async updateTemplate(req, ctx) {
      return pick(ctx).updateTemplate(req);
    },
    async attest(req, ctx) {
      return pick(ctx).attest(req);
    },
    async cloneSummary(req, ctx) {
      return pick(ctx).cloneSummary(req, ctx.signal);
    },
    async withdrawTransfer(req, ctx) {
      await pick(ctx).withdrawTransfer(req);
      return {};
    },
    async noteTransferOffer(req, ctx) {
      await pick(ctx).noteTransferOffer(req);
      return {};
    },
    async transferOwner(req, ctx) {
      await pick(ctx).transferOwner(req);
      return {};
    },
    async release(_req, ctx) {
      await pick(ctx).release();
      return {};
    },
    async setTrustLevel(req, ctx) {
      const trust = await pick(ctx).setTrustLevel(req);
      return {
        trustLevel: trust.level,
        dailySpendLimitWei: trust.dailySpendLimitWei === "0" ? "" : trust.dailySpendLimitWei,
      };
    },
    async setPermissions(req, ctx) {
      return { permissions: await pick(ctx).setPermissions(req) };
    },
    async setParticipation(req, ctx) {
      return { participation: await pick(ctx).setParticipation(req) };
    },
    async listActivity(req, ctx) {
      return pick(ctx).listActivity(req);
    },
    async countMembers(req, ctx) {
      return { members: await pick(ctx).countMembers(req.conversationId || undefined) };
    },
    async getFunds(_req, ctx) {
      return pick(ctx).getFunds();
    },
    async addConversation(req, ctx) {
      return { conversationId: await pick(ctx).addConversation(req) };
    },
    async leaveConversation(req, ctx) {
      return { homeConversationId: await pick(ctx).leaveConversation(req) };
    },
  };
}
