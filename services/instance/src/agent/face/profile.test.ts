// What the agent's profile says (profile.ts), pure: its face from the
// template as it resolves with its base, its certificate from the release it
// verified, the owner proof only for the owner who signed it, and an
// attestation taken only when it names this agent and its key checks it.
// Real: signatures (viem), Ed25519 keys (Node's crypto). No conversation.
import { create, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { OwnerProofSchema } from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { AttestRequestSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { SignedTemplateSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  AttestationKeyRing,
  decodeCertificate,
  generateAttestationKeyPem,
  newTemplateIdentity,
  signUpdateRelease,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { checkAttestRequest, joinProfile, planProfile } from "./profile.js";
import type { InstanceConfig } from "../state/settings.js";

const AGENT = "a".repeat(64);
const OWNER = "b".repeat(64);

async function config(over: Partial<InstanceConfig> = {}): Promise<InstanceConfig> {
  const creator = newIdentity();
  const release = await signUpdateRelease(creator.account, {
    ...newTemplateIdentity(creator.inboxId),
    version: 3n,
    content: sampleContent({ agent_name: "Trip Planner", description: "Plans trips", avatar: "https://e.com/a.png" }),
  });
  return {
    instanceId: "inst_1",
    template: toJson(SignedTemplateSchema, release),
    templateId: release.templateId,
    templateVersion: "3",
    agentName: "Trip Planner",
    ownerId: OWNER,
    model: "gpt-oss-20b",
    modelOverridden: false,
    tools: [],
    userConfig: {},
    configuredAt: new Date().toISOString(),
    ...over,
  };
}

const claimProof = () =>
  toJson(
    OwnerProofSchema,
    create(OwnerProofSchema, {
      proof: {
        case: "claim",
        value: { inviteHash: `0x${"1".repeat(64)}`, model: "", userConfigHash: `0x${"2".repeat(64)}` },
      },
    }),
  );

describe("the agent's profile", () => {
  it("shows its face at join, and that it speaks by the conversation's size; an image URL avatar also as the join request's image", async () => {
    expect(joinProfile(await config())).toEqual({
      metadata: {
        description: "Plans trips",
        avatar: "https://e.com/a.png",
        participation: "auto",
        cooldown_seconds: 0,
      },
      imageUrl: "https://e.com/a.png",
    });
  });

  it("carries its certificate: the release it runs, its owner and the owner's proof", async () => {
    const c = await config({ ownerProof: { ownerId: OWNER, proof: claimProof() } });
    const { name, metadata } = planProfile(c, AGENT, undefined, LOCAL_POOL_ID);
    expect(name).toBe("Trip Planner");
    expect(metadata).toMatchObject({ template_id: c.templateId, template_version: 3, owner: OWNER });
    expect(metadata.attestation).toBeUndefined();
    // When it speaks, as its owner set it: by name, for members to read.
    expect(metadata).toMatchObject({ participation: "auto", cooldown_seconds: 0 });
    const paused = planProfile(c, AGENT, undefined, LOCAL_POOL_ID, {
      mode: ParticipationMode.PAUSED,
      cooldownSeconds: 90,
    });
    expect(paused.metadata).toMatchObject({ participation: "paused", cooldown_seconds: 90 });
    const cert = decodeCertificate(String(metadata.certificate))!;
    expect(cert.inboxId).toBe(AGENT);
    expect(cert.release?.contentHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(cert.ownerProof?.proof.case).toBe("claim");
  });

  it("leaves out a proof its owner did not sign (after a transfer)", async () => {
    const c = await config({ ownerProof: { ownerId: "c".repeat(64), proof: claimProof() } });
    const cert = decodeCertificate(String(planProfile(c, AGENT, undefined, LOCAL_POOL_ID).metadata.certificate))!;
    expect(cert.ownerId).toBe(OWNER);
    expect(cert.ownerProof).toBeUndefined();
  });

  it("takes an attestation only when it names this agent and the key handed with it signed it", () => {
    const ring = new AttestationKeyRing([{ kid: "k1", pem: generateAttestationKeyPem() }]);
    const a = ring.attest(AGENT);
    const req = (inboxId: string, x = a.x, kid = a.kid) =>
      create(AttestRequestSchema, {
        attestation: { inboxId, signature: a.signature, timestamp: a.timestamp, kid: a.kid },
        key: { kid, x },
      });
    expect(checkAttestRequest(req(AGENT), AGENT)).toMatchObject({ inboxId: AGENT, kid: "k1" });
    expect(() => checkAttestRequest(req(OWNER), AGENT)).toThrow(/attestation.inbox_id/);
    const other = new AttestationKeyRing([{ kid: "k1", pem: generateAttestationKeyPem() }]).publicKeys()[0]!.x;
    expect(() => checkAttestRequest(req(AGENT, other), AGENT)).toThrow(/attestation.signature/);
    expect(() => checkAttestRequest(req(AGENT, a.x, "k2"), AGENT)).toThrow(/key/);
    expect(() => checkAttestRequest(req(AGENT), AGENT, Date.now() + 25 * 3600_000)).toThrow(/too old/);
  });
});
