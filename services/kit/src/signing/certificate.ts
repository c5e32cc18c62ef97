// An agent's birth certificate and badge as its Convos profile metadata
// carries them, and their check (docs/signatures.md, "Birth certificate").
// The format: readable keys for people and clients (template_id,
// template_version, creator, owner, parent, description, avatar), the
// pool's attestation (attestation, attestation_ts, attestation_kid: the
// Convos scheme), and `certificate`, base64url of an AgentCertificate
// (proto/convos/pool/v1/certificate.proto) with the signatures that prove
// the readable keys. No Node module: the CLI, the agent and the web app use it.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Hex } from "viem";
import {
  AgentCertificateSchema,
  ReleaseProofSchema,
  type AgentCertificate,
  type ReleaseProof,
} from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  base64url,
  checkAttestation,
  fromBase64url,
  type AttestationCheck,
  type AttestationJwks,
  type AttestationParts,
} from "./attestation.js";
import { participationModeName, type ResolvedParticipation } from "../content/participation.js";
import type { SignatureVerifier } from "./signatures.js";
import { inviteHash } from "./fields.js";
import { contentToJson, jsonHash } from "../content/template.js";
import { checkCreator, signedReleaseOperation } from "./template-release.js";

/** A Convos profile's metadata as plain values (string, number or bool). */
export type ProfileMetadata = Record<string, string | number | boolean>;

/** The metadata keys of an agent of the pool. */
export const PROFILE_KEYS = {
  attestation: "attestation",
  attestationTs: "attestation_ts",
  attestationKid: "attestation_kid",
  certificate: "certificate",
  templateId: "template_id",
  templateVersion: "template_version",
  creator: "creator",
  owner: "owner",
  parent: "parent",
  description: "description",
  avatar: "avatar",
  participation: "participation",
  cooldownSeconds: "cooldown_seconds",
} as const;

/** A release without its content: what its creator's signature covers, the content as its hash. */
export function releaseProofOf(t: SignedTemplate): ReleaseProof {
  return create(ReleaseProofSchema, {
    templateId: t.templateId,
    creatorId: t.creatorId,
    version: t.version,
    contentHash: t.content ? jsonHash(contentToJson(t.content)) : "",
    change: t.change,
    patchHash: t.patchHash,
    rollbackTargetVersion: t.rollbackTargetVersion,
    creationNonce: t.creationNonce,
    creatorSignature: t.creatorSignature,
    acknowledgeWalletRemoval: t.acknowledgeWalletRemoval,
  });
}

export function encodeCertificate(c: AgentCertificate): string {
  return base64url(toBinary(AgentCertificateSchema, c));
}

export function decodeCertificate(s: string): AgentCertificate | undefined {
  const bytes = fromBase64url(s);
  if (!bytes) return undefined;
  try {
    return fromBinary(AgentCertificateSchema, bytes);
  } catch {
    return undefined;
  }
}

/** The metadata an agent publishes: its face, the pool's attestation, its certificate and the readable keys it proves. */
export function agentProfileMetadata(input: {
  description?: string;
  avatar?: string;
  /** When it speaks, as its owner set it: shown to members, proven by nothing (it is the agent's to keep). */
  participation?: ResolvedParticipation;
  attestation?: AttestationParts;
  certificate?: AgentCertificate;
}): ProfileMetadata {
  const K = PROFILE_KEYS;
  const out: ProfileMetadata = {};
  if (input.description) out[K.description] = input.description;
  if (input.avatar) out[K.avatar] = input.avatar;
  if (input.participation) {
    out[K.participation] = participationModeName(input.participation.mode);
    out[K.cooldownSeconds] = input.participation.cooldownSeconds;
  }
  const a = input.attestation;
  if (a) {
    out[K.attestation] = a.signature;
    out[K.attestationTs] = a.timestamp;
    out[K.attestationKid] = a.kid;
  }
  const c = input.certificate;
  if (c?.release) {
    out[K.templateId] = c.release.templateId;
    out[K.templateVersion] = Number(c.release.version);
    out[K.creator] = c.release.creatorId;
    out[K.owner] = c.ownerId;
    if (c.parentInboxId) out[K.parent] = c.parentInboxId;
    out[K.certificate] = encodeCertificate(c);
  }
  return out;
}

/**
 * Metadata as the Convos CLI prints it (`{"key": {"type": "string", "value": …}}`,
 * or a profile object with `metadata`), or already plain.
 */
export function plainMetadata(raw: unknown): ProfileMetadata {
  const obj = raw as Record<string, unknown> | undefined;
  if (!obj || typeof obj !== "object") return {};
  const inner = obj.metadata && typeof obj.metadata === "object" ? (obj.metadata as Record<string, unknown>) : obj;
  const out: ProfileMetadata = {};
  for (const [k, v] of Object.entries(inner)) {
    const value = v && typeof v === "object" && "value" in v ? v.value : v;
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") out[k] = value;
  }
  return out;
}

/** One claim of the certificate and whether it checked out. */
export interface Finding {
  ok: boolean;
  /** Who vouches for it: a signature checked here, or the pool's word only. */
  by: "signature" | "pool";
  detail: string;
}

export interface AgentReport {
  inboxId: string;
  /** The badge: attestation valid, and every signature the certificate carries checks out. */
  valid: boolean;
  attestation: AttestationCheck;
  certificate?: {
    /** The pool it belongs to, whose signing domain its signatures name. */
    poolId: string;
    templateId: string;
    version: number;
    creatorId: string;
    ownerId: string;
    ownerProof: "claim" | "clone" | "pool";
    /** Each change of owner, oldest first (its signatures are part of `owner`). */
    transfers: { from: string; to: string }[];
    parentInstanceId?: string;
    parentInboxId?: string;
    template: Finding;
    owner: Finding;
    parent?: Finding;
  };
  problems: string[];
}

const str = (m: ProfileMetadata, k: string) => (typeof m[k] === "string" ? m[k] : undefined);

/** The attestation in the metadata, for `inboxId`; undefined when a part is missing. */
export function attestationIn(inboxId: string, m: ProfileMetadata): AttestationParts | undefined {
  const K = PROFILE_KEYS;
  const signature = str(m, K.attestation);
  const timestamp = str(m, K.attestationTs);
  const kid = str(m, K.attestationKid);
  return signature && timestamp && kid ? { inboxId, signature, timestamp, kid } : undefined;
}

/**
 * Checks an agent's profile metadata without trusting the pool beyond its
 * attestation key: the attestation against the JWKS, then each signature
 * of the certificate against the XMTP network (`verifier`'s resolver): the
 * creator's release, the owner's claim or clone, and that the readable keys
 * say what the certificate proves. `invite`, when the checker has it, is
 * matched against the invite hash the owner signed.
 */
export async function verifyAgentProfile(
  inboxId: string,
  metadata: ProfileMetadata,
  deps: { jwks: AttestationJwks; verifier: SignatureVerifier; now?: number; invite?: string },
): Promise<AgentReport> {
  const problems: string[] = [];
  const parts = attestationIn(inboxId, metadata);
  const attestation: AttestationCheck = parts
    ? checkAttestation(parts, deps.jwks, deps.now !== undefined ? { now: deps.now } : {})
    : { valid: false, reason: "no attestation in the profile (attestation, attestation_ts, attestation_kid)" };
  if (!attestation.valid) problems.push(`attestation: ${attestation.reason}`);
  const encoded = str(metadata, PROFILE_KEYS.certificate);
  if (!encoded) {
    problems.push("certificate: none in the profile");
    return { inboxId, valid: false, attestation, problems };
  }
  const cert = decodeCertificate(encoded);
  if (!cert?.release) {
    problems.push("certificate: not a certificate");
    return { inboxId, valid: false, attestation, problems };
  }
  const certificate = await verifyCertificate(inboxId, cert, deps);
  problems.push(...certificate.problems);
  const K = PROFILE_KEYS;
  const r = cert.release;
  const said: [string, string | number | boolean | undefined, string | number][] = [
    [K.templateId, metadata[K.templateId], r.templateId],
    [K.templateVersion, metadata[K.templateVersion], Number(r.version)],
    [K.creator, metadata[K.creator], r.creatorId],
    [K.owner, metadata[K.owner], cert.ownerId],
    [K.parent, metadata[K.parent] ?? "", cert.parentInboxId],
  ];
  for (const [key, value, proven] of said) {
    if (value !== proven) problems.push(`${key}: the profile says ${String(value)}, its certificate ${String(proven)}`);
  }
  const { problems: _, ...report } = certificate;
  return { inboxId, valid: problems.length === 0, attestation, certificate: report, problems };
}

/** The certificate's signatures, each checked; `problems` lists what did not check out. */
export async function verifyCertificate(
  inboxId: string,
  cert: AgentCertificate,
  deps: { verifier: SignatureVerifier; invite?: string },
): Promise<NonNullable<AgentReport["certificate"]> & { problems: string[] }> {
  const problems: string[] = [];
  const r = cert.release;
  if (!r) throw new Error("certificate.release: missing (verifyAgentProfile refuses such a certificate first)");
  if (cert.inboxId !== inboxId) problems.push(`certificate.inbox_id: is ${cert.inboxId}, not this agent's`);
  // Its signatures name its pool: checked under the pool the verifier trusts, which it must name.
  if (cert.poolId !== deps.verifier.poolId) {
    problems.push(
      `certificate.pool_id: names pool "${cert.poolId}", not "${deps.verifier.poolId}", the pool it was checked for`,
    );
  }
  const check = async (what: string, job: () => Promise<string>): Promise<Finding> => {
    try {
      return { ok: true, by: "signature", detail: await job() };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      problems.push(`${what}: ${reason}`);
      return { ok: false, by: "signature", detail: reason };
    }
  };
  const template = await check("certificate.release", async () => {
    checkCreator(r, "certificate.release");
    const { operation, fields } = signedReleaseOperation(r, r.contentHash as Hex, "certificate.release");
    const { address } = await deps.verifier.verify(
      operation,
      fields,
      r.creatorSignature,
      "certificate.release.creator_signature",
      { anyAge: true },
    );
    return `${operation} of version ${r.version} signed by ${address}, a wallet of the creator's inbox`;
  });
  const inviteNote = (signed: string) => {
    if (deps.invite === undefined) return "its invite not checked (no invite given)";
    if (inviteHash(deps.invite) === signed) return "into this conversation's invite";
    problems.push("certificate.owner_proof: the owner signed another conversation's invite");
    return "another invite";
  };
  const proof = cert.ownerProof?.proof;
  // The claim or clone proves the first owner; the transfers, oldest first, each owner after.
  const firstOwner = cert.transfers[0]?.fromOwnerId ?? cert.ownerId;
  const signed = ownerSigned(cert, r, firstOwner);
  let owner: Finding = signed
    ? await check(signed.field, async () => {
        const { operation, fields, proof: p } = signed;
        const { address } = await deps.verifier.verify(operation, fields, p.signature, "signature", { anyAge: true });
        return `${signed.named} signed by ${address}, a wallet of the owner's inbox, ${inviteNote(p.inviteHash)}`;
      })
    : { ok: true, by: "pool", detail: "claimed in a session: no owner signature, the pool's word only" };
  if (cert.transfers.length > 0) {
    const handed = await check("certificate.transfers", () => checkTransfers(cert, deps.verifier));
    owner = {
      ok: owner.ok && handed.ok,
      by: owner.by,
      detail: `first owner ${firstOwner}: ${owner.detail}; ${handed.detail}`,
    };
  }
  const parent: Finding | undefined = cert.parentInstanceId
    ? proof?.case === "clone"
      ? { ok: owner.ok, by: "signature", detail: `the owner's CloneAgent names instance ${cert.parentInstanceId}` }
      : { ok: true, by: "pool", detail: "no CloneAgent signature: the pool's word only" }
    : undefined;
  return {
    poolId: cert.poolId,
    templateId: r.templateId,
    version: Number(r.version),
    creatorId: r.creatorId,
    ownerId: cert.ownerId,
    ownerProof: proof?.case ?? "pool",
    transfers: cert.transfers.map((t) => ({ from: t.fromOwnerId, to: t.toOwnerId })),
    ...(cert.parentInstanceId ? { parentInstanceId: cert.parentInstanceId, parentInboxId: cert.parentInboxId } : {}),
    template,
    owner,
    ...(parent ? { parent } : {}),
    problems,
  };
}

/**
 * What the first owner signed to have the agent, by the certificate's proof:
 * a claim's ClaimAgent or a clone's CloneAgent, with the fields signed and how
 * a finding names it; none for a claim in a session.
 */
function ownerSigned(cert: AgentCertificate, r: NonNullable<AgentCertificate["release"]>, firstOwner: string) {
  const proof = cert.ownerProof?.proof;
  switch (proof?.case) {
    case "claim":
      return {
        field: "certificate.owner_proof.claim",
        operation: "ClaimAgent" as const,
        named: "ClaimAgent",
        proof: proof.value,
        fields: {
          inboxId: firstOwner,
          templateId: r.templateId,
          inviteHash: proof.value.inviteHash,
          model: proof.value.model,
          userConfigHash: proof.value.userConfigHash,
          secondAgent: proof.value.secondAgent,
        },
      };
    case "clone":
      return {
        field: "certificate.owner_proof.clone",
        operation: "CloneAgent" as const,
        named: `CloneAgent of ${cert.parentInstanceId}`,
        proof: proof.value,
        fields: {
          inboxId: firstOwner,
          parentInstanceId: cert.parentInstanceId,
          templateId: r.templateId,
          templateCreatorId: r.creatorId,
          inviteHash: proof.value.inviteHash,
          directiveHash: proof.value.directiveHash,
          carry: proof.value.carry,
          configHash: proof.value.configHash,
        },
      };
    default:
      return undefined;
  }
}

/**
 * The chain of owners, from the first to `owner_id`: each link unbroken, the
 * owner's TransferAgent and the next owner's AcceptAgent both signed by
 * wallets of their inboxes. What it checked, or throws the first break.
 */
async function checkTransfers(cert: AgentCertificate, verifier: SignatureVerifier): Promise<string> {
  const said: string[] = [];
  for (const [i, t] of cert.transfers.entries()) {
    const next = cert.transfers[i + 1];
    const expectedTo = next ? next.fromOwnerId : cert.ownerId;
    if (t.toOwnerId !== expectedTo) {
      throw new Error(`transfer ${i + 1} hands it to ${t.toOwnerId}, but the next owner is ${expectedTo}`);
    }
    const offer = await verifier.verify(
      "TransferAgent",
      { inboxId: t.fromOwnerId, instanceId: cert.instanceId, newOwnerId: t.toOwnerId },
      t.offer,
      `transfers[${i}].offer`,
      { anyAge: true },
    );
    const acceptance = await verifier.verify(
      "AcceptAgent",
      { inboxId: t.toOwnerId, instanceId: cert.instanceId, fromOwnerId: t.fromOwnerId },
      t.acceptance,
      `transfers[${i}].acceptance`,
      { anyAge: true },
    );
    said.push(
      `handed to ${t.toOwnerId} (TransferAgent signed by ${offer.address}, AcceptAgent by ${acceptance.address})`,
    );
  }
  return said.join("; then ");
}
