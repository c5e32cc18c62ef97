// An agent's birth certificate in its profile metadata (docs/signatures.md,
// "Birth certificate"): the format, and its check against real EIP-712
// signatures (viem accounts). The inbox check is the offline derivation
// (DerivedInboxResolver), which answers for an inbox made by its first
// wallet as the XMTP network would; the e2e test uses the network.
import { create } from "@bufbuild/protobuf";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  AgentCertificateSchema,
  OwnerProofSchema,
  TransferProofSchema,
  type AgentCertificate,
} from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import { AttestationKeyRing, generateAttestationKeyPem } from "./attestation-keys.js";
import { toJwks } from "./attestation.js";
import {
  agentProfileMetadata,
  decodeCertificate,
  encodeCertificate,
  plainMetadata,
  PROFILE_KEYS,
  releaseProofOf,
  verifyAgentProfile,
} from "./certificate.js";
import { DerivedInboxResolver, deriveInboxId } from "./inbox.js";
import { SignatureVerifier } from "./signatures.js";
import { LOCAL_POOL_ID, signOperation } from "./sign.js";
import { claimFields, cloneFields, signClaim, signClone } from "./fields.js";
import { newTemplateIdentity, signUpdateRelease } from "./template-release.js";

const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
const person = () => {
  const account = privateKeyToAccount(generatePrivateKey());
  return { account, inboxId: deriveInboxId(account.address) };
};
const AGENT = "c".repeat(64);
const INVITE = "https://convos.org/v2?i=abc";
const content = {
  agent_name: "Trip Planner",
  instructions: "Plan trips.",
  model: { default: "gpt-oss-20b", allow_override: true },
  tools: [],
  description: "Plans trips with you",
  category: "travel",
  tags: [],
  avatar: "🧭",
};

async function fixture() {
  const creator = person();
  const owner = person();
  const id = newTemplateIdentity(creator.inboxId);
  const release = await signUpdateRelease(creator.account, { ...id, version: 4n, content });
  const claim = {
    requester: owner.inboxId,
    templateId: id.templateId,
    conversationInvite: INVITE,
    model: "",
    userConfig: {},
  };
  const f = claimFields(claim);
  const cert = create(AgentCertificateSchema, {
    inboxId: AGENT,
    poolId: LOCAL_POOL_ID,
    instanceId: "inst_1",
    release: releaseProofOf(release),
    ownerId: owner.inboxId,
    ownerProof: {
      proof: {
        case: "claim",
        value: {
          inviteHash: f.inviteHash as string,
          model: "",
          userConfigHash: f.userConfigHash as string,
          signature: await signClaim(owner.account, claim),
        },
      },
    },
  });
  const ring = new AttestationKeyRing([{ kid: "k1", pem: generateAttestationKeyPem() }]);
  const jwks = toJwks(ring.publicKeys());
  return { creator, owner, id, release, cert, ring, jwks };
}

const metadataOf = (cert: AgentCertificate, ring: AttestationKeyRing, inbox = AGENT) =>
  agentProfileMetadata({
    description: content.description,
    avatar: content.avatar,
    participation: { mode: ParticipationMode.MENTION, cooldownSeconds: 60 },
    attestation: ring.attest(inbox),
    certificate: cert,
  });

describe("an agent's profile metadata", () => {
  it("carries the face, when it speaks, the badge in Convos' keys and readable keys that its certificate proves", async () => {
    const { cert, ring, owner, creator, id } = await fixture();
    const m = metadataOf(cert, ring);
    expect(m).toMatchObject({
      description: "Plans trips with you",
      avatar: "🧭",
      participation: "mention",
      cooldown_seconds: 60,
      attestation_kid: "k1",
      template_id: id.templateId,
      template_version: 4,
      creator: creator.inboxId,
      owner: owner.inboxId,
    });
    expect(m.attestation_ts).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(m.parent).toBeUndefined();
    expect(decodeCertificate(m.certificate as string)).toEqual(cert);
    // As the Convos CLI prints a profile: {key: {type, value}}.
    const printed = {
      metadata: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, { type: typeof v, value: v }])),
    };
    expect(plainMetadata(printed)).toEqual(m);
  });

  it("checks out: the attestation, the creator's release and the owner's signed claim into this invite", async () => {
    const { cert, ring, jwks } = await fixture();
    const report = await verifyAgentProfile(AGENT, metadataOf(cert, ring), { jwks, verifier, invite: INVITE });
    expect(report.problems).toEqual([]);
    expect(report.valid).toBe(true);
    expect(report.certificate).toMatchObject({
      version: 4,
      ownerProof: "claim",
      template: { ok: true, by: "signature" },
      owner: { ok: true, by: "signature", detail: expect.stringContaining("this conversation's invite") },
    });
  });

  it("is refused when it is another inbox's, its readable keys lie, or a signature was altered", async () => {
    const { cert, ring, jwks } = await fixture();
    // Another agent's profile copied: its attestation and certificate name the other inbox.
    const other = await verifyAgentProfile("d".repeat(64), metadataOf(cert, ring), { jwks, verifier });
    expect(other.valid).toBe(false);
    expect(other.attestation.valid).toBe(false);
    expect(other.problems.join("\n")).toMatch(/certificate.inbox_id/);
    // Says version 5 where its creator signed 4.
    const lying = await verifyAgentProfile(
      AGENT,
      { ...metadataOf(cert, ring), template_version: 5 },
      { jwks, verifier },
    );
    expect(lying.problems).toEqual(["template_version: the profile says 5, its certificate 4"]);
    // Claims a later version than the creator signed.
    const bumped = create(AgentCertificateSchema, { ...cert, release: { ...cert.release!, version: 5n } });
    const r = await verifyAgentProfile(AGENT, metadataOf(bumped, ring), { jwks, verifier });
    expect(r.certificate?.template.ok).toBe(false);
    // Another owner named than the one who signed.
    const stranger = person();
    const owned = create(AgentCertificateSchema, { ...cert, ownerId: stranger.inboxId });
    const o = await verifyAgentProfile(AGENT, metadataOf(owned, ring), { jwks, verifier });
    expect(o.certificate?.owner.ok).toBe(false);
    // Signed into another conversation.
    const elsewhere = await verifyAgentProfile(AGENT, metadataOf(cert, ring), { jwks, verifier, invite: "other" });
    expect(elsewhere.problems.join("\n")).toMatch(/another conversation's invite/);
    // No badge at all.
    const { attestation: _, ...unattested } = metadataOf(cert, ring);
    expect((await verifyAgentProfile(AGENT, unattested, { jwks, verifier })).attestation.valid).toBe(false);
  });

  it("is checked for the pool it names: another pool's verifier refuses it, and a certificate cannot move itself to that pool", async () => {
    const { cert, ring, jwks } = await fixture();
    const east = new SignatureVerifier({ poolId: "pool-east", resolver: new DerivedInboxResolver() });
    const there = await verifyAgentProfile(AGENT, metadataOf(cert, ring), { jwks, verifier: east });
    expect(there.valid).toBe(false);
    expect(there.problems[0]).toBe(
      'certificate.pool_id: names pool "local", not "pool-east", the pool it was checked for',
    );
    // Renamed to that pool: its signatures were made for the other and do not check out there.
    const moved = create(AgentCertificateSchema, { ...cert, poolId: "pool-east" });
    const m = await verifyAgentProfile(AGENT, metadataOf(moved, ring), { jwks, verifier: east });
    expect(m.certificate?.template.ok).toBe(false);
    expect(m.certificate?.owner.ok).toBe(false);
  });

  it("says when the owner is the pool's word only (a claim made in a session)", async () => {
    const { cert, ring, jwks } = await fixture();
    const session = create(AgentCertificateSchema, { ...cert, ownerProof: undefined });
    const report = await verifyAgentProfile(AGENT, metadataOf(session, ring), { jwks, verifier });
    expect(report.valid).toBe(true);
    expect(report.certificate).toMatchObject({ ownerProof: "pool", owner: { ok: true, by: "pool" } });
  });

  it("proves an owner after transfers by the chain of offers and acceptances, and refuses a broken or forged link", async () => {
    const { cert, ring, jwks, owner } = await fixture();
    const ana = person();
    const bo = person();
    const hand = async (from: ReturnType<typeof person>, to: ReturnType<typeof person>, by = from) =>
      create(TransferProofSchema, {
        fromOwnerId: from.inboxId,
        toOwnerId: to.inboxId,
        offer: await signOperation(by.account, "TransferAgent", {
          inboxId: from.inboxId,
          instanceId: cert.instanceId,
          newOwnerId: to.inboxId,
        }),
        acceptance: await signOperation(to.account, "AcceptAgent", {
          inboxId: to.inboxId,
          instanceId: cert.instanceId,
          fromOwnerId: from.inboxId,
        }),
      });
    const chain = [await hand(owner, ana), await hand(ana, bo)];
    const handed = create(AgentCertificateSchema, { ...cert, ownerId: bo.inboxId, transfers: chain });
    const report = await verifyAgentProfile(AGENT, metadataOf(handed, ring), { jwks, verifier, invite: INVITE });
    expect(report.problems).toEqual([]);
    expect(report.certificate).toMatchObject({
      ownerId: bo.inboxId,
      ownerProof: "claim",
      transfers: [
        { from: owner.inboxId, to: ana.inboxId },
        { from: ana.inboxId, to: bo.inboxId },
      ],
      owner: { ok: true, by: "signature", detail: expect.stringContaining(`handed to ${bo.inboxId}`) },
    });
    // The chain must end at the owner the certificate names.
    const stranger = person();
    const claimed = create(AgentCertificateSchema, { ...handed, ownerId: stranger.inboxId });
    const c = await verifyAgentProfile(AGENT, metadataOf(claimed, ring), { jwks, verifier });
    expect(c.certificate?.owner.ok).toBe(false);
    expect(c.problems.join("\n")).toMatch(/certificate.transfers: transfer 2 hands it to/);
    // An offer Ana signed for herself, as if she had been the owner: the first link is broken.
    const forged = create(AgentCertificateSchema, {
      ...cert,
      ownerId: bo.inboxId,
      transfers: [await hand(owner, bo, ana)],
    });
    const f = await verifyAgentProfile(AGENT, metadataOf(forged, ring), { jwks, verifier });
    expect(f.certificate?.owner.ok).toBe(false);
    expect(f.problems.join("\n")).toMatch(/transfers\[0\]\.offer/);
    // The claim's proof is of the first owner: it does not vouch for a later one without the chain.
    const unchained = create(AgentCertificateSchema, { ...cert, ownerId: bo.inboxId });
    expect(
      (await verifyAgentProfile(AGENT, metadataOf(unchained, ring), { jwks, verifier })).certificate?.owner.ok,
    ).toBe(false);
  });

  it("proves a clone's owner and parent by the owner's CloneAgent", async () => {
    const { cert, ring, jwks, owner, id } = await fixture();
    const clone = {
      ownerId: owner.inboxId,
      parentInstanceId: "inst_parent",
      templateId: id.templateId,
      templateCreatorId: id.creatorId,
      conversationInvite: INVITE,
      contextPrompt: "",
      carry: [],
      model: "",
      userConfig: {},
    };
    const f = cloneFields(clone);
    const child = create(AgentCertificateSchema, {
      ...cert,
      parentInstanceId: "inst_parent",
      parentInboxId: "e".repeat(64),
      ownerProof: create(OwnerProofSchema, {
        proof: {
          case: "clone",
          value: {
            inviteHash: f.inviteHash as string,
            directiveHash: f.directiveHash as string,
            carry: f.carry as string,
            configHash: f.configHash as string,
            signature: await signClone(owner.account, clone),
          },
        },
      }),
    });
    const m = metadataOf(child, ring);
    expect(m[PROFILE_KEYS.parent]).toBe("e".repeat(64));
    const report = await verifyAgentProfile(AGENT, m, { jwks, verifier, invite: INVITE });
    expect(report.problems).toEqual([]);
    expect(report.certificate).toMatchObject({ ownerProof: "clone", parent: { ok: true, by: "signature" } });
    // The same signature does not prove another parent.
    const moved = create(AgentCertificateSchema, { ...child, parentInstanceId: "inst_other" });
    expect((await verifyAgentProfile(AGENT, metadataOf(moved, ring), { jwks, verifier })).certificate?.owner.ok).toBe(
      false,
    );
    expect(encodeCertificate(child)).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});
