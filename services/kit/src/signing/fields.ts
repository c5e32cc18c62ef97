// The fields of the operations that sign hashes of what a request carries (a
// claim, a clone, an addition to a conversation, a day's counts), and their
// signing: one derivation for the client that signs and the service or agent
// that checks.
import { keccak256, stringToBytes, type Hex } from "viem";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ConversationTools } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { invalidArgument } from "../content/errors.js";
import { resolveParticipation, type ResolvedParticipation } from "../content/participation.js";
import { canonicalJson } from "../content/template.js";
import type { OperationFields } from "./operations.js";
import { signOperation, type TypedDataSigner } from "./sign.js";

/**
 * The fields of a `ClaimAgent` signature, from the claim as sent: the invite
 * as keccak256 of its text with surrounding white space trimmed, the user
 * config as keccak256 of its canonical JSON (`{}` when empty), the model as
 * given ("" for the template's default), and whether the requester confirmed
 * a second agent of the template in the conversation (false when absent).
 * docs/signatures.md, "Claims".
 */
export function claimFields(claim: {
  requester: string;
  templateId: string;
  conversationInvite: string;
  model: string;
  userConfig: Record<string, string>;
  confirmSecondAgent?: boolean | undefined;
}): OperationFields & { inboxId: string } {
  return {
    inboxId: claim.requester,
    templateId: claim.templateId,
    inviteHash: inviteHash(claim.conversationInvite),
    model: claim.model,
    userConfigHash: keccak256(stringToBytes(canonicalJson(claim.userConfig))),
    secondAgent: claim.confirmSecondAgent === true,
  };
}

/** Signs a claim as a client without a session does (ClaimAgent over claimFields): for the CLI, tests and benchmarks. */
export function signClaim(
  account: TypedDataSigner,
  claim: Parameters<typeof claimFields>[0],
  issuedAt?: number,
  poolId?: string,
): Promise<Signature> {
  return signOperation(account, "ClaimAgent", claimFields(claim), issuedAt, poolId);
}

/** Memory kinds in their one canonical order (training, personalization, credentials: docs/memory.md). */
export const MEMORY_KINDS = ["training", "personalization", "credentials"] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];
/** What carries when the owner names nothing: credentials only when named. */
export const DEFAULT_CARRY: readonly MemoryKind[] = ["training", "personalization"];

/**
 * The kinds that carry, deduplicated, in canonical order: what `CloneAgent`
 * signs as `carry`, comma-joined. Empty means DEFAULT_CARRY; an unknown kind
 * throws INVALID_ARGUMENT naming `field`.
 */
export function canonicalCarry(kinds: readonly string[], field = "carry"): MemoryKind[] {
  kinds.forEach((k, i) => {
    if (!(MEMORY_KINDS as readonly string[]).includes(k)) {
      throw invalidArgument(`${field}[${i}]`, `"${k}" is not a kind of memory (${MEMORY_KINDS.join(", ")})`);
    }
  });
  if (kinds.length === 0) return [...DEFAULT_CARRY];
  return MEMORY_KINDS.filter((k) => kinds.includes(k));
}

/** A clone as the owner signs it (CloneAuthorization without its signature). */
export interface CloneToSign {
  ownerId: string;
  parentInstanceId: string;
  /** The parent's template, which the clone runs, and that template's creator. */
  templateId: string;
  templateCreatorId: string;
  conversationInvite: string;
  contextPrompt: string;
  carry: string[];
  model: string;
  userConfig: Record<string, string>;
}

/**
 * A clone's `configHash`: keccak256 of the canonical JSON of
 * `{"model": …, "user_config": {…}}` (keys sorted, no white space, as
 * contentHash's). One hash for both, so model and values are signed as one
 * configuration. docs/signatures.md, "Clone with context".
 */
export function cloneConfigHash(model: string, userConfig: Record<string, string>): Hex {
  return keccak256(stringToBytes(canonicalJson({ model, user_config: userConfig })));
}

/**
 * The fields of a `CloneAgent` signature: the template and its creator as
 * given, the invite as keccak256 of its trimmed text (as ClaimAgent's), the
 * directive as keccak256 of its exact text ("" when the owner gives none),
 * the kinds that carry comma-joined in canonical order, and the model as
 * asked ("" for the parent's) with the user config as asked (none: the
 * parent's) as `configHash`. docs/signatures.md, "Clone with context".
 */
export function cloneFields(clone: CloneToSign): OperationFields & { inboxId: string } {
  return {
    inboxId: clone.ownerId,
    parentInstanceId: clone.parentInstanceId,
    templateId: clone.templateId,
    templateCreatorId: clone.templateCreatorId,
    inviteHash: inviteHash(clone.conversationInvite),
    directiveHash: keccak256(stringToBytes(clone.contextPrompt)),
    carry: canonicalCarry(clone.carry).join(","),
    configHash: cloneConfigHash(clone.model, clone.userConfig),
  };
}

/** Signs a clone as its owner (CloneAgent over cloneFields): for the CLI, tests and benchmarks. */
export function signClone(
  account: TypedDataSigner,
  clone: CloneToSign,
  issuedAt?: number,
  poolId?: string,
): Promise<Signature> {
  return signOperation(account, "CloneAgent", cloneFields(clone), issuedAt, poolId);
}

/** An addition of a running agent to another conversation, as its owner signs it (AddToConversation). */
export interface ConversationAdditionToSign {
  ownerId: string;
  instanceId: string;
  conversationInvite: string;
  /** Unset: resolveParticipation's defaults (by the conversation's size, no cooldown). */
  participation?: Partial<ResolvedParticipation> | undefined;
  /** Unset: shared. */
  tools?: ConversationTools | undefined;
  /** The owner confirmed adding it beside another agent of its template already there. */
  secondAgent?: boolean | undefined;
}

/** Whether an agent's tools act in a conversation, as signed: unspecified is shared (1); INVALID_ARGUMENT naming `field` otherwise. */
export function signedConversationTools(tools: ConversationTools | undefined, field = "tools"): ConversationTools {
  if (tools === undefined || tools === ConversationTools.UNSPECIFIED) return ConversationTools.SHARED;
  if (tools === ConversationTools.SHARED || tools === ConversationTools.NONE) return tools;
  throw invalidArgument(field, "must be shared (1) or none (2)");
}

/**
 * The fields of an `AddToConversation` signature: the invite as keccak256 of
 * its trimmed text (as ClaimAgent's), the participation there with its
 * defaults filled in (as SetParticipation's), the tools there (1 shared, 2
 * none; unspecified is shared) and whether a second agent was confirmed
 * (false when absent: then not in the typed data). docs/signatures.md,
 * "One agent in several conversations".
 */
export function addToConversationFields(add: ConversationAdditionToSign): OperationFields & { inboxId: string } {
  const participation = resolveParticipation(add.participation);
  return {
    inboxId: add.ownerId,
    instanceId: add.instanceId,
    inviteHash: inviteHash(add.conversationInvite),
    mode: participation.mode,
    cooldownSeconds: participation.cooldownSeconds,
    tools: signedConversationTools(add.tools),
    secondAgent: add.secondAgent === true,
  };
}

/** Signs an addition to a conversation as its owner (AddToConversation over addToConversationFields): for the CLI, tests and benchmarks. */
export function signAddToConversation(
  account: TypedDataSigner,
  add: ConversationAdditionToSign,
  issuedAt?: number,
  poolId?: string,
): Promise<Signature> {
  return signOperation(account, "AddToConversation", addToConversationFields(add), issuedAt, poolId);
}

/** The fields of a `ShareMemory` signature: the entry ids joined by "," in the order sent (as ForgetMemory's). */
export function shareMemoryFields(share: {
  ownerId: string;
  instanceId: string;
  entryIds: readonly string[];
  share: boolean;
}): OperationFields & { inboxId: string } {
  return {
    inboxId: share.ownerId,
    instanceId: share.instanceId,
    entryIds: share.entryIds.join(","),
    share: share.share,
  };
}

/** keccak256 of a trimmed invite: how ClaimAgent, CloneAgent and AddToConversation name a conversation. */
export function inviteHash(invite: string): Hex {
  return keccak256(stringToBytes(invite.trim()));
}

/** An agent's counts for one day of one version (docs/signals.md): counts only (its pin is the pool's record, not its word). */
export interface VersionSignalCounts {
  answers: number;
  people: number;
  thumbsUp: number;
  thumbsDown: number;
  corrections: number;
  forgetRequests: number;
  approvalsAsked: number;
  approvalsDeclined: number;
  toolCallsFailed: number;
  /** Its owner set it paused (a change to paused, once each). */
  pauses: number;
  /** Someone stopped it while it was thinking (each stop that ended a turn). */
  stopRequests: number;
}

/**
 * A day's counts by name, in the order ReportVersionSignals signs them: the
 * one list the agent counts by and the lineage service sums by.
 */
export const VERSION_SIGNAL_COUNTS = [
  "answers",
  "people",
  "thumbsUp",
  "thumbsDown",
  "corrections",
  "forgetRequests",
  "approvalsAsked",
  "approvalsDeclined",
  "toolCallsFailed",
  "pauses",
  "stopRequests",
] as const satisfies readonly (keyof VersionSignalCounts)[];

/** One person's part of an agent's day (docs/signals.md, "Per person"): a pseudonym of the day, never an inbox. */
export interface PersonSignalCounts {
  /** HMAC-SHA256 of the template, the day and the person's inbox under the pool hosts' person key: 64 hex digits. */
  person: string;
  /** Answers to their texts. */
  answers: number;
  /** 👎 they put on those answers, on the answer's day, once each. */
  thumbsDown: number;
  corrections: number;
  /** Turns they stopped while it thought; absent (0) in a day counted before stops were per person. */
  stopRequests?: number;
  /** Tool calls that failed in turns answering their texts; absent (0) as stopRequests. */
  toolCallsFailed?: number;
}

/**
 * What ReportVersionSignals signs of a day's persons: keccak256 of one line
 * per person (pseudonym and counts, sorted by pseudonym), or "" for none,
 * so that a host can neither add, drop nor change a person's counts. A
 * person with no stops and no failed tool calls has the line it had before
 * those were counted per person: a day signed then is still its signature.
 */
export function personsDigest(persons: readonly PersonSignalCounts[]): string {
  if (persons.length === 0) return "";
  const lines = persons
    .map((p) => {
      const base = `${p.person} ${p.answers} ${p.thumbsDown} ${p.corrections}`;
      const stops = p.stopRequests ?? 0;
      const failed = p.toolCallsFailed ?? 0;
      return stops === 0 && failed === 0 ? base : `${base} ${stops} ${failed}`;
    })
    .sort()
    .join("\n");
  return keccak256(stringToBytes(lines));
}

/** What an agent signs of a day's counts (ReportVersionSignals). */
export interface VersionSignalsToSign {
  /** The agent's own inbox. */
  inboxId: string;
  instanceId: string;
  templateId: string;
  version: string;
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  counts: VersionSignalCounts;
  /** The day per person; absent: none. */
  persons?: PersonSignalCounts[];
}

/** The fields of a `ReportVersionSignals` signature: every count, beside the agent, version and day, and the persons' digest. */
export function versionSignalsFields(r: VersionSignalsToSign): OperationFields & { inboxId: string } {
  return {
    inboxId: r.inboxId,
    instanceId: r.instanceId,
    templateId: r.templateId,
    version: r.version,
    day: r.day,
    ...r.counts,
    persons: personsDigest(r.persons ?? []),
  };
}

/** Signs a day's counts as the agent (ReportVersionSignals over versionSignalsFields): for instance hosts and tests. */
export function signVersionSignals(
  account: TypedDataSigner,
  report: VersionSignalsToSign,
  issuedAt?: number,
  poolId?: string,
): Promise<Signature> {
  return signOperation(account, "ReportVersionSignals", versionSignalsFields(report), issuedAt, poolId);
}
