// The agent's Convos profile (docs/signatures.md, "Birth certificate"): its
// face (name, description and avatar from its template), when it speaks
// (its owner's participation, so that members see it), the pool's
// attestation (the verified badge Convos clients show) and its birth
// certificate (its template release, owner and parent, each with the
// signature that proves it). planProfile decides what it says, pure;
// Profile checks what the pool hands it and publishes a ProfileUpdate.
//
// The pool hands it an attestation (InstanceService.Attest) after its claim
// and every 12 hours; it publishes one only when it names its own inbox and
// the key handed with it checks the signature, so the pool cannot make it
// show another agent's badge. It keeps the last one (attestation.json) to
// publish again when its template version changes. The statement of what it
// may do comes with it and is posted when new (statement.ts), and with it
// the statement of each of its other conversations, posted in that one: as
// the pool's statement message (voice/send.ts), in words that name the owner
// as each conversation knows them.

import { create, fromJson } from "@bufbuild/protobuf";
import {
  AgentCertificateSchema,
  OwnerProofSchema,
  TransferProofSchema,
  type AgentCertificate,
} from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import type { AttestRequest } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { SignedTemplateSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  agentProfileMetadata,
  ATTESTATION_MAX_AGE_MS,
  checkAttestationWithKey,
  releaseProofOf,
  type AttestationParts,
  type ProfileMetadata,
} from "@convos-pool/kit/signing";
import {
  failedPrecondition,
  invalidArgument,
  resolveParticipation,
  type ResolvedParticipation,
} from "@convos-pool/kit/content";
import { encodeProfileUpdate } from "@convos-pool/convos";
import type { AgentGroup } from "../../platform/xmtp.js";
import { runningContentOf } from "../state/settings.js";
import type { Parts } from "../life/parts.js";
import type { Conversation } from "../conversation/listening.js";
import type { InstanceConfig } from "../state/settings.js";
import {
  checkConversationStatements,
  checkStatementRequest,
  homeStatementAlsoIn,
  postStatement,
  STATEMENT_FILE,
  statementFileOf,
} from "../state/statement.js";

/** The last attestation it published, to publish again with a new certificate. */
const ATTESTATION_FILE = "attestation.json";

/** Name, description and avatar, from the template as it resolves with its bases. */
export function faceOf(config: InstanceConfig): { name: string; description: string; avatar: string } {
  const content = runningContentOf(config);
  return { name: config.agentName, description: content?.description ?? "", avatar: content?.avatar ?? "" };
}

/** What it is, with the proofs it holds: the release it verified, the owner's signature, its parent. */
export function certificateOf(config: InstanceConfig, inboxId: string, poolId: string): AgentCertificate {
  const release = fromJson(SignedTemplateSchema, config.template);
  const transfers = (config.transfers ?? []).map((t) => fromJson(TransferProofSchema, t));
  // The claim's signature proves the first owner; each transfer the owner after it.
  const firstOwner = transfers[0]?.fromOwnerId ?? config.ownerId;
  const proof =
    config.ownerProof?.ownerId === firstOwner ? fromJson(OwnerProofSchema, config.ownerProof.proof) : undefined;
  return create(AgentCertificateSchema, {
    inboxId,
    instanceId: config.instanceId,
    release: releaseProofOf(release),
    ownerId: config.ownerId,
    ...(proof ? { ownerProof: proof } : {}),
    ...(config.parent ? { parentInstanceId: config.parent.instanceId, parentInboxId: config.parent.inboxId } : {}),
    transfers,
    poolId,
  });
}

/**
 * The metadata it shows when it joins: its face and when it speaks (a new
 * claim's default); an image URL avatar also as the join request's image.
 */
export function joinProfile(config: InstanceConfig): { metadata: ProfileMetadata; imageUrl?: string } {
  const { description, avatar } = faceOf(config);
  return {
    metadata: agentProfileMetadata({ description, avatar, participation: resolveParticipation(undefined) }),
    ...(avatar.startsWith("https://") ? { imageUrl: avatar } : {}),
  };
}

/** Its whole profile: the face, when it speaks, the attestation when it has one, the certificate. */
export function planProfile(
  config: InstanceConfig,
  inboxId: string,
  attestation: AttestationParts | undefined,
  poolId: string,
  participation: ResolvedParticipation = resolveParticipation(undefined),
): { name: string; metadata: ProfileMetadata } {
  const { name, description, avatar } = faceOf(config);
  return {
    name,
    metadata: agentProfileMetadata({
      description,
      avatar,
      participation,
      ...(attestation ? { attestation } : {}),
      certificate: certificateOf(config, inboxId, poolId),
    }),
  };
}

/**
 * The attestation in an Attest call, if it is this agent's: it names its
 * inbox, and the key handed with it checks its signature and age. Else
 * INVALID_ARGUMENT naming the field.
 */
export function checkAttestRequest(req: AttestRequest, inboxId: string, now = Date.now()): AttestationParts {
  const a = req.attestation;
  if (!a) throw invalidArgument("attestation", "is required");
  if (a.inboxId !== inboxId) throw invalidArgument("attestation.inbox_id", `names ${a.inboxId}, not this agent`);
  if (!req.key || req.key.kid !== a.kid) throw invalidArgument("key", "must be the key the attestation names");
  const parts = { inboxId: a.inboxId, signature: a.signature, timestamp: a.timestamp, kid: a.kid };
  const check = checkAttestationWithKey(parts, req.key.x, { now });
  if (!check.valid) throw invalidArgument("attestation.signature", check.reason);
  return parts;
}

export class Profile {
  constructor(private readonly agent: Parts) {}

  /**
   * Checks the pool's attestation, keeps it, and publishes its profile with
   * it; then posts the statement handed with it when it is new
   * (statement.ts). The metadata keys sent, and whether it posted.
   */
  async attest(req: AttestRequest): Promise<{ metadataKeys: string[]; statementPosted: boolean }> {
    const agent = this.agent;
    const attestation = checkAttestRequest(req, agent.status.inboxId);
    const { config } = agent.settings;
    const { group } = agent.conversation;
    if (!config || !group) {
      throw failedPrecondition(`instance ${agent.id} is not in a conversation: nothing to attest there`);
    }
    // All checked before any is used: a bad statement publishes nothing.
    const self = {
      inboxId: agent.status.inboxId,
      instanceId: config.instanceId,
      // The owner as members there see them: their profile name in that conversation, when it has one.
      nameIn: (conversationId: string, inboxId: string) => agent.conversations.get(conversationId)?.names[inboxId],
    };
    const home = agent.conversations.home?.id;
    const statement = checkStatementRequest(req, { ...self, home });
    const others = checkConversationStatements(req, { ...self, home }, (id) => agent.conversations.has(id));
    await agent.ws.writeJson(ATTESTATION_FILE, attestation);
    const metadataKeys = await this.publish(attestation, config, group);
    const statementPosted = statement
      ? await postStatement(
          agent.ws,
          statement,
          (s) => agent.voice.statement(s),
          STATEMENT_FILE,
          homeStatementAlsoIn(home),
        )
      : false;
    if (statementPosted) agent.log.info("statement posted", { instanceId: config.instanceId });
    // Each in its own conversation, by that conversation's voice: never another's.
    for (const { conversationId, kept } of others) {
      const c = agent.conversations.get(conversationId);
      if (!c) continue;
      const file = statementFileOf(conversationId, home);
      const posted = await agent.conversations.within(c, () =>
        postStatement(agent.ws, kept, (s) => c.voice.statement(s), file),
      );
      if (posted) agent.log.info("statement posted", { instanceId: config.instanceId, conversationId });
    }
    return { metadataKeys, statementPosted };
  }

  /**
   * Publishes again (a new template version, a new owner, a new
   * participation): with its last attestation while Convos clients still
   * accept it.
   */
  async republish(only?: Conversation): Promise<void> {
    const agent = this.agent;
    const saved = await agent.ws.readJson<AttestationParts>(ATTESTATION_FILE);
    const fresh = saved && Date.now() - Date.parse(saved.timestamp) < ATTESTATION_MAX_AGE_MS ? saved : undefined;
    const { config } = agent.settings;
    if (!config) return;
    // In each conversation, with that conversation's participation.
    for (const c of only ? [only] : agent.conversations.all()) {
      const { group } = c;
      if (group) await agent.conversations.within(c, () => this.publish(fresh, config, group));
    }
  }

  /** Its profile, with `attestation` when it has one, in `group`, its conversation. */
  private async publish(
    attestation: AttestationParts | undefined,
    config: InstanceConfig,
    group: AgentGroup,
  ): Promise<string[]> {
    const agent = this.agent;
    const { name, metadata } = planProfile(
      config,
      agent.status.inboxId,
      attestation,
      agent.deps.poolId,
      agent.settings.participation,
    );
    await group.send(encodeProfileUpdate(name, true, metadata));
    agent.log.info("profile published", { attested: attestation !== undefined, kid: attestation?.kid });
    return Object.keys(metadata);
  }
}
