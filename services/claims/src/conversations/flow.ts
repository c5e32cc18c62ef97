/**
 * An owner adds their running agent to another conversation, or takes it out
 * of one (docs/claims.md, "Adding an agent to a conversation"). The rules are
 * policy.ts's, the queries sql.ts's; the agent checks the owner's
 * signature itself before it joins or leaves.
 *
 * AddToConversation, stage by stage, and what a failure there leaves:
 *
 * | stage      | what holds                                                        | a failure here                         |
 * | ---------- | ----------------------------------------------------------------- | -------------------------------------- |
 * | 1 checked  | fields, invite parsed, owner's signature, agent running, under    | nothing written                        |
 * |            | the cap, not in it or joining, conversation not full, a second    |                                        |
 * |            | agent of its template confirmed                                   |                                        |
 * | 2 reserved | a `joining` row (add_id) and the nonce spent, in one transaction, | the row deleted (owner signs again)    |
 * |            | its lease renewed while the agent is asked                        |                                        |
 * | 3 asked    | InstanceService.AddConversation with the owner's signature        | the agent refused: the row deleted;    |
 * |            |                                                                   | no answer: the lease stops, the sweep  |
 * |            |                                                                   | settles the row against the host       |
 * | 4 joined   | the row `joined` with its group id, the attestation due           | the agent is in: the sweep completes   |
 *
 * RemoveFromConversation: the agent leaves first (its own check of the
 * owner's signature), then one transaction: nonce spent, row `left`, the
 * home moved when it was the home.
 *
 * SetParticipation in one conversation (SetConversationParticipation, its own
 * signed type, so a signature for the home never sets another): the owner
 * proven before the conversation is looked at (nobody else learns where the
 * agent is), the agent takes it (and checks the signature itself), then one
 * transaction: nonce spent, the conversation's row (and the home's setting
 * when it is the home) as the agent took it.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AddToConversationResponseSchema,
  RemoveFromConversationResponseSchema,
  SetParticipationResponseSchema,
  type AddToConversationRequest,
  type AddToConversationResponse,
  type RemoveFromConversationRequest,
  type RemoveFromConversationResponse,
  type SetParticipationRequest,
  type SetParticipationResponse,
} from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  AddConversationRequestSchema,
  InstanceServiceSetParticipationRequestSchema,
  LeaveConversationRequestSchema,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { invalidArgument, notFound } from "@convos-pool/kit/content";
import type { LimitConfig, Logger } from "@convos-pool/kit/server";
import { addToConversationFields, type SignatureVerifier } from "@convos-pool/kit/signing";
import type { EntityManager } from "@mikro-orm/postgresql";
import { agentIn, checkNotFull, conversationKeyOf } from "../claim/full-conversation.js";
import { isLive } from "../claim/policy.js";
import { proveOwned, requireFreshSignature, requireOwnerSignature } from "../claim/proof.js";
import { checkSecondAgent } from "../claim/second-agent.js";
import { agentForFlow } from "../claim/sql.js";
import { getInstance, instanceToProto } from "../db/reads.js";
import { askAgent, type HostedConversation, type InstanceRef, type InstanceRuntime } from "../hosts/runtime.js";
import {
  checkAddition,
  checkConversationCap,
  checkNotThere,
  checkParticipationIn,
  checkRemoval,
  checkRunning,
  notIn,
  notRunning,
  participationTarget,
  planRemoval,
  settleStale,
  type Settlement,
} from "./policy.js";
import {
  completeJoin,
  conversationsOf,
  dropJoin,
  isIn,
  leaveConversation,
  lockAgent,
  otherAgentOfTemplateIn,
  renewJoins,
  reserveJoin,
  setParticipationIn,
  staleJoins,
} from "./sql.js";

export interface ConversationFlowDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
  runtime: Pick<
    InstanceRuntime,
    "addConversation" | "leaveConversation" | "countMembers" | "hostedConversations" | "setParticipation"
  >;
  /** conversationsPerAgent (docs/limits.md). */
  limits: Pick<LimitConfig, "conversationsPerAgent">;
  log: Logger;
  /**
   * An addition's lease: renewed every quarter of it while its agent is
   * asked; one not renewed for this long is settled by the sweep. Default 20 s.
   */
  leaseSeconds?: number | undefined;
}

/** How long the agent counting the conversation's members may take: past it, the addition goes on (as a claim's). */
const COUNT_MS = 5_000;

/** Codes that say the host did not answer: whether the agent did it is unknown. */
const SILENT = [Code.Unavailable, Code.Internal, Code.Unknown, Code.DeadlineExceeded];

export class ConversationFlow {
  readonly leaseSeconds: number;

  constructor(private readonly deps: ConversationFlowDeps) {
    this.leaseSeconds = deps.leaseSeconds ?? 20;
  }

  async add(req: AddToConversationRequest, caller: string | undefined): Promise<AddToConversationResponse> {
    const { em, runtime } = this.deps;
    // 1 checked.
    const asked = checkAddition(req);
    const signature = requireFreshSignature(
      req.ownerSignature,
      "AddToConversation",
      "takes what its owner taught the agent into another conversation",
    );
    const key = await conversationKeyOf(asked.invite);
    if (!key) throw invalidArgument("conversation_invite", "is not a Convos invite (a link or its slug)");
    // The owner and the instance are proveOwned's to add: the agent's own.
    const {
      inboxId: _owner,
      instanceId: _instance,
      ...fields
    } = addToConversationFields({
      ownerId: "",
      instanceId: "",
      conversationInvite: asked.invite,
      participation: asked.participation,
      tools: asked.tools,
      secondAgent: asked.confirmSecondAgent,
    });
    const instance = await getInstance(em.fork(), asked.instanceId);
    const { agent, spendNonce } = await proveOwned(this.deps.verifier, asked.instanceId, instance, caller, {
      operation: "AddToConversation",
      fields,
      signature,
    });
    checkRunning(agent.state);
    const ref = await agentForFlow(em.fork(), agent.id);
    if (!ref) throw notFound(`instance ${agent.id}`);
    // A stale addition of this agent is settled first: it would hold the agent's one place for an addition.
    for (const stale of await staleJoins(em.fork(), this.leaseSeconds, { instanceId: agent.id }))
      await this.settle(stale.agent, stale.addId);
    const rows = await conversationsOf(em.fork(), agent.id);
    checkNotThere(rows, key);
    checkConversationCap(rows, this.deps.limits.conversationsPerAgent);
    await this.checkNotFull(key);
    if (agent.templateId) {
      const there = await otherAgentOfTemplateIn(em.fork(), key, agent.templateId, agent.id, agent.ownerId);
      checkSecondAgent(there, agent.ownerId, asked.confirmSecondAgent);
    }

    // 2 reserved: checked again under the agent's lock, so two additions at once take turns.
    const addId = `add_${randomUUID()}`;
    await em.fork().transactional(async (tx) => {
      const now = await lockAgent(tx, agent.id);
      if (!now) throw notRunning();
      checkNotThere(now, key);
      checkConversationCap(now, this.deps.limits.conversationsPerAgent);
      await spendNonce(tx);
      await reserveJoin(tx, {
        instanceId: agent.id,
        addId,
        conversationKey: key,
        participation: asked.participation,
        tools: asked.tools,
      });
    });

    // 3 asked.
    let conversationId: string;
    const renewal = setInterval(
      () => {
        renewJoins(em.fork(), [addId]).catch((err: unknown) =>
          this.deps.log.warn("could not renew an addition's lease", { instanceId: agent.id, err }),
        );
      },
      (this.leaseSeconds * 1000) / 4,
    );
    renewal.unref();
    try {
      ({ conversationId } = await runtime.addConversation(
        ref,
        create(AddConversationRequestSchema, {
          conversationInvite: asked.invite,
          authorization: {
            ownerId: agent.ownerId,
            participation: asked.participation,
            tools: asked.tools,
            secondAgent: asked.confirmSecondAgent,
            signature,
          },
        }),
      ));
    } catch (err) {
      if (SILENT.includes(ConnectError.from(err).code)) {
        // It may have joined: the row stays joining, unrenewed, for the sweep to settle against the host.
        throw new ConnectError(
          "the agent's host did not answer; whether the agent joined is settled within a minute: read the agent",
          Code.Unavailable,
        );
      }
      await dropJoin(em.fork(), agent.id, addId);
      // The agent's refusal, passed on as it said it (askAgent's words).
      return askAgent("the addition", () => Promise.reject(ConnectError.from(err)));
    } finally {
      clearInterval(renewal);
    }

    // 4 joined.
    const outcome = await em.fork().transactional(async (tx) => {
      // Another invite of a conversation it is in: the agent is in it once.
      if (await isIn(tx, agent.id, conversationId)) {
        await dropJoin(tx, agent.id, addId);
        return true;
      }
      return completeJoin(tx, agent.id, addId, conversationId);
    });
    const after = await this.current(agent.id);
    const conversation = after.conversations.find((c) => c.conversationId === conversationId);
    if (!conversation) {
      // Settled by a sweep meanwhile, as not joined: the agent's own record holds; read it again later.
      throw new ConnectError(
        `the addition was settled while the agent joined (${outcome ? "joined" : "not recorded"}); read the agent`,
        Code.Aborted,
      );
    }
    return create(AddToConversationResponseSchema, { conversation, instance: after });
  }

  async remove(
    req: RemoveFromConversationRequest,
    caller: string | undefined,
  ): Promise<RemoveFromConversationResponse> {
    const { em, runtime } = this.deps;
    const { instanceId, conversationId } = checkRemoval(req);
    const signature = requireOwnerSignature(req.ownerSignature, "RemoveFromConversation");
    const instance = await getInstance(em.fork(), instanceId);
    const { agent, spendNonce } = await proveOwned(this.deps.verifier, instanceId, instance, caller, {
      operation: "RemoveFromConversation",
      fields: { conversationId },
      signature,
    });
    const ref = await agentForFlow(em.fork(), agent.id);
    if (!ref || !isLive(ref.state)) throw notFound(`instance ${instanceId}`);
    // Refused before the agent is asked: not there, or its last conversation.
    planRemoval(await conversationsOf(em.fork(), agent.id), conversationId);
    try {
      await askAgent("leaving the conversation", () =>
        runtime.leaveConversation(
          ref,
          create(LeaveConversationRequestSchema, { ownerId: agent.ownerId, conversationId, signature }),
        ),
      );
    } catch (err) {
      // The agent is not in it: it left on an earlier call whose answer was lost. Its NOT_FOUND names the field,
      // which a host without the agent (or without the call) does not.
      const e = ConnectError.from(err);
      if (!(e.code === Code.NotFound && e.rawMessage.includes("conversation_id:"))) throw err;
    }
    await em.fork().transactional(async (tx) => {
      const rows = await lockAgent(tx, agent.id);
      if (!rows) throw notFound(`instance ${instanceId}`);
      const plan = planRemoval(rows, conversationId);
      await spendNonce(tx);
      if (!(await leaveConversation(tx, agent.id, conversationId, plan.newHome?.addId))) throw notIn(conversationId);
    });
    return create(RemoveFromConversationResponseSchema, { instance: await this.current(agent.id) });
  }

  /** When the agent speaks in one of its conversations, named by `conversation_id` (the home's own path: claim/service.ts). */
  async setParticipation(req: SetParticipationRequest, caller: string | undefined): Promise<SetParticipationResponse> {
    const { em, runtime } = this.deps;
    const asked = checkParticipationIn(req);
    const { conversationId, participation } = asked;
    const signature = requireOwnerSignature(req.ownerSignature, "SetConversationParticipation");
    const instance = await getInstance(em.fork(), asked.instanceId);
    const { agent, spendNonce } = await proveOwned(this.deps.verifier, asked.instanceId, instance, caller, {
      operation: "SetConversationParticipation",
      fields: { conversationId, ...participation },
      signature,
    });
    const ref = await agentForFlow(em.fork(), agent.id);
    if (!ref || !isLive(ref.state)) throw notFound(`instance ${agent.id}`);
    participationTarget(await conversationsOf(em.fork(), agent.id), conversationId);
    const took = await askAgent("the participation", () =>
      runtime.setParticipation(
        ref,
        create(InstanceServiceSetParticipationRequestSchema, {
          ownerId: agent.ownerId,
          participation,
          signature,
          conversationId,
        }),
      ),
    );
    await em.fork().transactional(async (tx) => {
      await spendNonce(tx);
      if (!(await setParticipationIn(tx, agent.id, agent.ownerId, conversationId, took))) throw notIn(conversationId);
    });
    return create(SetParticipationResponseSchema, { instance: await this.current(agent.id) });
  }

  /**
   * Settles additions whose lease ran out (their process stopped, or their
   * agent's answer was lost) against what each agent's host lists: joined,
   * or deleted. A host that does not answer leaves its rows to the next sweep.
   */
  async sweep(): Promise<{ joined: number; dropped: number }> {
    const counts = { joined: 0, dropped: 0 };
    for (const { agent, addId } of await staleJoins(this.deps.em.fork(), this.leaseSeconds)) {
      const s = await this.settle(agent, addId);
      if (s?.kind === "joined") counts.joined++;
      if (s?.kind === "drop") counts.dropped++;
    }
    if (counts.joined + counts.dropped > 0) this.deps.log.warn("stale additions settled", counts);
    return counts;
  }

  private async settle(agent: InstanceRef, addId: string): Promise<Settlement | undefined> {
    const { em } = this.deps;
    let hosted: HostedConversation[] | undefined;
    try {
      hosted = await this.deps.runtime.hostedConversations(agent);
    } catch (err) {
      this.deps.log.warn("could not read an agent's conversations from its host", { instanceId: agent.id, err });
      return undefined;
    }
    const s = settleStale(await conversationsOf(em.fork(), agent.id), hosted);
    if (s.kind === "drop") await dropJoin(em.fork(), agent.id, addId, this.leaseSeconds);
    else if (s.kind === "joined")
      await em.fork().transactional((tx) => completeJoin(tx, agent.id, addId, s.conversationId));
    else this.deps.log.warn("an agent's host lists conversations the pool does not know", { instanceId: agent.id });
    return s;
  }

  /**
   * Refuses an addition when an agent of the pool whose home is the
   * conversation counts it full (as a claim's check, claim/full-conversation.ts);
   * an agent that cannot answer lets it go on.
   */
  private async checkNotFull(key: string): Promise<void> {
    const there = await agentIn(this.deps.em.fork(), key);
    if (!there) return;
    let members: number;
    try {
      members = await this.deps.runtime.countMembers(there, COUNT_MS);
    } catch (err) {
      this.deps.log.warn("could not count a conversation's members before an addition", { instanceId: there.id, err });
      return;
    }
    checkNotFull(members);
  }

  private async current(instanceId: string): Promise<Instance> {
    const now = await getInstance(this.deps.em.fork(), instanceId);
    if (!now) throw notFound(`instance ${instanceId}`);
    return instanceToProto(now);
  }
}
