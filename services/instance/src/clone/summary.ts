// Clone with context, as the two agents see it (docs/signatures.md, "Clone
// with context"; docs/instance.md). Neither takes the pool's word for who
// the other is:
//
//   parent  CloneSummary: the owner's CloneAgent signature must be its own
//           owner's (checked on the XMTP network), name this instance and
//           the template and creator it runs, be in time and never used
//           before (its nonce is kept here), and the
//           child's inbox must belong to the wallet the keys service's root
//           key derives at the index the request states: a genuine instance
//           of this pool, which the control plane (without that key) cannot
//           fake. Only then is memory read.
//   child   takes in one summary: from the inbox of the parent the pool named,
//           which must also be seed-derived at the parent's index; in a group
//           of exactly the two of them; carrying its own owner's signature of
//           a clone of that parent into the very conversation it joined (the
//           invite's hash), running the template and creator the owner
//           signed with the model and user config the owner asked for (the
//           rest carried from the parent: clone/binding.ts); only entries of
//           the kinds the owner chose.
//
// A compromised control plane therefore cannot have a summary made without
// the owner, sent to anything but a genuine agent of this pool, or taken in
// by an agent not claimed for that owner in that conversation.

import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  canonicalCarry,
  cloneFields,
  inviteHash,
  type InboxResolver,
  type MemoryKind,
  type SignatureVerifier,
} from "@convos-pool/kit/signing";
import { invalidArgument, permissionDenied, unauthenticated } from "@convos-pool/kit/content";
import {
  CarriedConfigSchema,
  CloneSummarySchema,
  SummaryEntrySchema,
  type CloneSummary,
} from "@convos-pool/gen/convos/pool/v1/clone_summary_pb.js";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { CloneAuthorization, CloneSummaryRequest } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { checkCloneConfig, checkSignedTemplate, type CloneConfig, type RunningTemplate } from "./binding.js";
import { isRole } from "../memory/provenance.js";
import { carriesOtherKind, type Memory, type MemoryEntry, type NewEntry } from "../memory/store.js";
import { linesFor } from "../walls/views.js";
import { carriedByClone } from "../memory/walls.js";
import type { AgentKeys } from "../platform/keys.js";
import { MAX_SUMMARY_BYTES } from "../platform/xmtp.js";

export interface CloneChecks {
  verifier: SignatureVerifier;
  resolver: InboxResolver;
  keys: Pick<AgentKeys, "address">;
}

/** How long an owner's CloneAgent signature is accepted by the parent (the verifier's window). */
export const CLONE_SIGNATURE_MAX_AGE_SECONDS = 300;

/**
 * The parent's checks of a CloneSummary request, before it reads any memory:
 * the owner's signature (for a clone of this agent's own template and
 * creator), then the child. Returns the kinds that carry. The nonce is spent
 * by the caller once these pass.
 */
export async function checkCloneRequest(
  checks: CloneChecks,
  self: { instanceId: string; inboxId: string; ownerId: string; template: RunningTemplate },
  req: CloneSummaryRequest,
): Promise<{ auth: CloneAuthorization; signature: Signature; carry: MemoryKind[] }> {
  const auth = req.authorization;
  if (!auth) throw invalidArgument("authorization", "required: the owner's signed clone (CloneAgent)");
  if (!auth.signature)
    throw unauthenticated("authorization.signature: required: the owner signs the clone (CloneAgent)");
  const carry = canonicalCarry(auth.carry, "authorization.carry");
  if (auth.ownerId !== self.ownerId)
    throw permissionDenied("authorization.owner_id: only this agent's owner may clone it");
  if (auth.parentInstanceId !== self.instanceId)
    throw permissionDenied("authorization.parent_instance_id: the signature is for another agent");
  checkSignedTemplate(auth, self.template, "this agent");
  const { signature } = await checks.verifier.verify(
    "CloneAgent",
    cloneFields(auth),
    auth.signature,
    "authorization.signature",
  );
  if (!req.childInboxId || req.childInboxId === self.inboxId)
    throw invalidArgument("child_inbox_id", "required: the clone's inbox, not this agent's");
  if (!(await isPoolInstance(checks, req.childInboxId, req.childWalletIndex))) {
    throw permissionDenied(
      `child_inbox_id: not the inbox of this pool's agent at wallet index ${req.childWalletIndex}`,
    );
  }
  return { auth, signature, carry };
}

/** The inbox belongs to the wallet the keys service derives at `walletIndex`: an agent of this pool (the pool's word is not enough). */
export async function isPoolInstance(
  checks: Pick<CloneChecks, "resolver" | "keys">,
  inboxId: string,
  walletIndex: number,
): Promise<boolean> {
  let address: string;
  try {
    address = await checks.keys.address(walletIndex);
  } catch (err) {
    // An index outside the wallets' range is not an agent; the keys service unreachable is not an answer.
    if (err instanceof ConnectError && err.code === Code.InvalidArgument) return false;
    throw err;
  }
  return checks.resolver.addressBelongsToInbox(address, inboxId);
}

/**
 * The summary message: entries in the order given, as many as fit in
 * MAX_SUMMARY_BYTES (the newest are kept when some must go), with what the
 * parent runs with that carries (`carried`: its model when its owner chose
 * it, its user config), so the child can check its own configuration.
 */
export function buildSummary(
  auth: CloneAuthorization,
  directive: string,
  entries: NewEntry[],
  via: "llm" | "offline",
  carried: CloneConfig = { model: "", userConfig: {} },
): CloneSummary {
  const summary = create(CloneSummarySchema, {
    authorization: auth,
    directive,
    via,
    carried: create(CarriedConfigSchema, { model: carried.model, userConfig: carried.userConfig }),
    entries: entries.map((e) =>
      create(SummaryEntrySchema, {
        kind: e.kind,
        text: e.text,
        role: e.role ?? "",
        taughtBy: e.from ?? "",
        conversationId: e.conversationId ?? "",
      }),
    ),
  });
  while (summary.entries.length > 0 && toBinary(CloneSummarySchema, summary).byteLength > MAX_SUMMARY_BYTES)
    summary.entries.shift();
  return summary;
}

/**
 * What the parent summarizes for a clone, which is made for another
 * conversation (docs/memory.md, "Provenance"): entries of the kinds the owner
 * chose that every conversation reads (memory/walls.ts `carriedByClone`: the
 * owner's own, what they marked "use this in all my conversations", adopted
 * lessons; never feedback, never a member's unconfirmed word), and the
 * owner's own lines of the conversation, less those that carry a kind the
 * owner did not choose.
 */
export function cloneSelection<
  L extends { role: string; from?: string | undefined; speaker?: string | undefined; text: string },
>(input: {
  memory: Memory;
  history: readonly L[];
  carry: readonly MemoryKind[];
  ownerId: string;
}): { entries: MemoryEntry[]; recent: L[] } {
  const { memory, carry, ownerId } = input;
  return {
    entries: memory.entries.filter((e) => carry.includes(e.kind) && carriedByClone(e, ownerId)),
    recent: linesFor(input.history, "", { kind: "clone" }).filter((h) => !carriesOtherKind(h.text, carry, memory)),
  };
}

export interface ChildView {
  ownerId: string;
  parent: { instanceId: string; inboxId: string; walletIndex: number };
  /** keccak256 of the invite it joined with. */
  inviteHash: string;
  /** The template it runs (the release it verified), and what it resolves to. */
  template: RunningTemplate;
  content: TemplateContent;
  /** The model and user config it was configured with. */
  config: CloneConfig;
}

/**
 * The child's checks of a summary message, by a sender in a group of
 * `memberCount`. Returns what to take in: entries of the kinds the owner
 * signed, marked inherited. Throws with the reason otherwise (logged, never
 * the content).
 */
export async function checkSummary(
  checks: CloneChecks,
  child: ChildView,
  message: { senderInboxId: string; memberCount: number; summary: CloneSummary },
): Promise<NewEntry[]> {
  const { summary } = message;
  if (message.senderInboxId !== child.parent.inboxId)
    throw permissionDenied("the sender is not the parent this agent was cloned from");
  if (message.memberCount !== 2)
    throw permissionDenied(`a clone summary comes in a group of two, not ${message.memberCount}`);
  if (!(await isPoolInstance(checks, message.senderInboxId, child.parent.walletIndex))) {
    throw permissionDenied("the parent's inbox is not this pool's agent at the wallet index the pool named");
  }
  const auth = summary.authorization;
  if (!auth?.signature) throw unauthenticated("the summary carries no owner signature");
  if (auth.ownerId !== child.ownerId)
    throw permissionDenied("the summary was authorized by someone other than this agent's owner");
  if (auth.parentInstanceId !== child.parent.instanceId)
    throw permissionDenied("the summary authorizes a clone of another agent");
  if (inviteHash(auth.conversationInvite) !== child.inviteHash)
    throw permissionDenied("the summary is for another conversation");
  // Its age was the parent's to check when it acted; the child only needs to know who signed what.
  await checks.verifier.verify("CloneAgent", cloneFields(auth), auth.signature, "authorization.signature", {
    anyAge: true,
  });
  // Before anything is taken in: the owner signed a clone of the template
  // this agent runs, with the configuration it runs with.
  checkSignedTemplate(auth, child.template, "this agent");
  checkCloneConfig(auth, summary.carried, child.content, child.config);
  const carry = new Set(canonicalCarry(auth.carry));
  return summary.entries
    .filter((e) => carry.has(e.kind as MemoryKind))
    .map((e) => ({
      kind: e.kind as MemoryKind,
      text: e.text,
      via: summary.via === "llm" ? "llm" : "rule",
      inheritedFrom: child.parent.instanceId,
      // Who taught the parent, as the parent says: shown to the owner, never a permission here.
      ...(isRole(e.role) ? { role: e.role } : {}),
      ...(e.taughtBy ? { from: e.taughtBy } : {}),
      ...(e.conversationId ? { conversationId: e.conversationId } : {}),
    }));
}
