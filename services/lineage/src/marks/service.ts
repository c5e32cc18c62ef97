// AgentStateMarkService (state_mark_service.proto): instance hosts carry
// each agent's high-water mark, the sequence of the newest state its vault
// kept, signed by the agent's own wallet (MarkAgentState, checked against
// the agent's inbox as the claims feed gave it); a restoring host reads it
// back and opens no older state (docs/scaling.md, "Only the newest state").
// A mark only rises, so an old one played again changes nothing and needs
// no nonce.
import { create } from "@bufbuild/protobuf";
import { ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { SignatureSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  type AgentStateMarkService,
  type PutStateMarkOutcome,
  PutStateMarkOutcomeSchema,
  type StateMark,
  StateMarkSchema,
} from "@convos-pool/gen/convos/pool/v1/state_mark_service_pb.js";
import { invalidArgument } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import type { SignatureVerifier } from "@convos-pool/kit/signing";
import { checkInstanceId } from "../lineage/checks.js";
import { reportingAgent } from "../signals/sql.js";
import { MAX_MARKS_PER_CALL, planPutMarks } from "./policy.js";
import { markOf, raiseMark } from "./sql.js";

export interface StateMarkDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
  log: Logger;
}

export function createStateMarkService(deps: StateMarkDeps): ServiceImpl<typeof AgentStateMarkService> {
  /** One mark, checked and kept; its outcome's error when refused. */
  async function put(mark: StateMark): Promise<string> {
    const agent = await reportingAgent(deps.em.fork(), mark.instanceId);
    if (!agent?.live) return `instance_id: no live instance ${mark.instanceId}`;
    if (!agent.inboxId || agent.inboxId !== mark.inboxId) return `inbox_id: not the inbox of ${mark.instanceId}`;
    const signature = mark.agentSignature;
    if (!signature) return "agent_signature: required for MarkAgentState";
    try {
      await deps.verifier.verify(
        "MarkAgentState",
        { inboxId: mark.inboxId, instanceId: mark.instanceId, sequence: mark.sequence },
        signature,
        "agent_signature",
      );
    } catch (err) {
      return ConnectError.from(err).rawMessage;
    }
    await raiseMark(deps.em.fork(), { ...mark, signature });
    return "";
  }

  return {
    async putStateMarks(req) {
      if (req.marks.length > MAX_MARKS_PER_CALL)
        throw invalidArgument("marks", `at most ${MAX_MARKS_PER_CALL} per call`);
      const outcomes: PutStateMarkOutcome[] = [];
      for (const p of planPutMarks(req.marks)) {
        const error = p.kind === "refuse" ? p.error : await put(p.mark);
        const instanceId = p.kind === "refuse" ? p.instanceId : p.mark.instanceId;
        if (error) deps.log.warn("a state mark was refused", { instanceId, why: error });
        outcomes.push(create(PutStateMarkOutcomeSchema, { instanceId, kept: error === "", error }));
      }
      return { outcomes };
    },

    async getStateMark(req) {
      checkInstanceId(req.instanceId);
      const m = await markOf(deps.em.fork(), req.instanceId);
      if (!m) return {};
      return {
        mark: create(StateMarkSchema, {
          instanceId: m.instanceId,
          inboxId: m.inboxId,
          sequence: m.sequence,
          agentSignature: create(SignatureSchema, m.signature),
        }),
      };
    },
  };
}
