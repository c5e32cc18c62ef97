import { createHash } from "node:crypto";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, describe, expect, it } from "vitest";
import { DerivedInboxResolver, deriveInboxId } from "./inbox.js";
import { SignatureVerifier } from "./signatures.js";
import { recoverTypedDataAddress, type Hex } from "viem";
import { LOCAL_POOL_ID, signOperation, signatureDomain } from "./sign.js";
import { SIGNED_TYPES, signedTypeOf } from "./operations.js";
import {
  addToConversationFields,
  inviteHash,
  shareMemoryFields,
  signAddToConversation,
  signVersionSignals,
  VERSION_SIGNAL_COUNTS,
  versionSignalsFields,
} from "./fields.js";
import { ConversationTools, ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { SignerRecoveryPool } from "./signature-workers.js";
import { codeOf } from "../../test/fixtures.js";
import { canonicalJson, jsonHash } from "../content/template.js";

const account = privateKeyToAccount(generatePrivateKey());
const inboxId = deriveInboxId(account.address);
const fields = { inboxId, templateId: "tmpl_AAAAAAAAAAAAAAAA", version: 3n };
const pool = new SignerRecoveryPool(1);
afterAll(() => pool.close());

describe("SignatureVerifier", () => {
  const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });

  it("accepts the creator's signature over exactly these fields, in line and on a worker", async () => {
    const sig = await signOperation(account, "ArchiveTemplate", fields);
    const inline = await verifier.verify("ArchiveTemplate", fields, sig);
    expect(inline.address).toBe(account.address);
    expect(inline.nonce).toBe(sig.nonce.toLowerCase());
    const pooled = new SignatureVerifier({
      poolId: LOCAL_POOL_ID,
      resolver: new DerivedInboxResolver(),
      recover: (p) => pool.recover(p),
    });
    expect((await pooled.verify("ArchiveTemplate", fields, sig)).address).toBe(account.address);
  });

  it("refuses another operation, other fields, another signer, and bad envelopes", async () => {
    const sig = await signOperation(account, "ArchiveTemplate", fields);
    expect(await codeOf(verifier.verify("DeleteTemplate", fields, sig))).toBe("PermissionDenied");
    expect(await codeOf(verifier.verify("ArchiveTemplate", { ...fields, version: 4n }, sig))).toBe("PermissionDenied");
    const other = privateKeyToAccount(generatePrivateKey());
    const forged = await signOperation(other, "ArchiveTemplate", fields);
    expect(await codeOf(verifier.verify("ArchiveTemplate", fields, forged))).toBe("PermissionDenied");
    expect(await codeOf(verifier.verify("ArchiveTemplate", fields, undefined))).toBe("Unauthenticated");
    expect(await codeOf(verifier.verify("ArchiveTemplate", fields, { ...sig, signature: "0x1234" }))).toBe(
      "InvalidArgument",
    );
    expect(await codeOf(verifier.verify("ArchiveTemplate", fields, { ...sig, nonce: "nonce" }))).toBe(
      "InvalidArgument",
    );
    // A well-formed signature that recovers to no key at all.
    const garbage = { ...sig, signature: `0x${"00".repeat(64)}1b` };
    expect(await codeOf(verifier.verify("ArchiveTemplate", fields, garbage))).toBe("Unauthenticated");
  });

  it("an agent's day of counts (ReportVersionSignals) checks out only as signed: another count, day, version, agent or person's counts is refused", async () => {
    const report = {
      inboxId,
      instanceId: "inst_1",
      templateId: "tmpl_AAAAAAAAAAAAAAAA",
      version: "7",
      day: "2026-11-26",
      counts: {
        answers: 12,
        people: 5,
        thumbsUp: 3,
        thumbsDown: 1,
        corrections: 2,
        forgetRequests: 0,
        approvalsAsked: 1,
        approvalsDeclined: 1,
        toolCallsFailed: 0,
        pauses: 1,
        stopRequests: 2,
      },
      persons: [
        { person: "a".repeat(64), answers: 4, thumbsDown: 1, corrections: 0 },
        { person: "b".repeat(64), answers: 8, thumbsDown: 0, corrections: 2 },
      ],
    };
    const sig = await signVersionSignals(account, report);
    // The persons in another order are the same day.
    const reordered = { ...report, persons: [...report.persons].reverse() };
    expect((await verifier.verify("ReportVersionSignals", versionSignalsFields(reordered), sig)).address).toBe(
      account.address,
    );
    expect((await verifier.verify("ReportVersionSignals", versionSignalsFields(report), sig)).address).toBe(
      account.address,
    );
    for (const changed of [
      { ...report, counts: { ...report.counts, thumbsUp: 30 } },
      { ...report, counts: { ...report.counts, corrections: 0 } },
      { ...report, counts: { ...report.counts, pauses: 0 } },
      { ...report, counts: { ...report.counts, stopRequests: 3 } },
      { ...report, day: "2026-11-25" },
      { ...report, version: "6" },
      { ...report, instanceId: "inst_2" },
      { ...report, persons: report.persons.slice(1) },
      { ...report, persons: [] },
      { ...report, persons: [{ ...report.persons[0]!, thumbsDown: 0 }, report.persons[1]!] },
    ])
      expect(await codeOf(verifier.verify("ReportVersionSignals", versionSignalsFields(changed), sig))).toBe(
        "PermissionDenied",
      );
  });

  it("names a day's counts once, as ReportVersionSignals signs them: every number it signs, in its order", () => {
    const signed = SIGNED_TYPES.ReportVersionSignals.filter((f) => f.type === "uint32").map((f) => f.name);
    expect([...VERSION_SIGNAL_COUNTS]).toEqual(signed);
  });

  it("accepts only what was signed for its own pool: a signature relayed from another pool is refused, naming this one", async () => {
    const east = new SignatureVerifier({ poolId: "pool-east", resolver: new DerivedInboxResolver() });
    const forEast = await signOperation(account, "ArchiveTemplate", fields, undefined, "pool-east");
    expect((await east.verify("ArchiveTemplate", fields, forEast)).address).toBe(account.address);
    expect(await codeOf(verifier.verify("ArchiveTemplate", fields, forEast))).toBe("PermissionDenied");
    const forLocal = await signOperation(account, "ArchiveTemplate", fields);
    await expect(east.verify("ArchiveTemplate", fields, forLocal)).rejects.toThrow(/in pool "pool-east"/);
  });

  it("names the pool in the domain's salt, and takes only well-formed pool ids", () => {
    expect(signatureDomain("pool-east").salt).not.toBe(signatureDomain("pool-west").salt);
    expect(signatureDomain("local")).toMatchObject({ name: "Convos Agent Pool", version: "1" });
    for (const bad of ["", "Pool", "pool_east", "-pool", "pool-", "p".repeat(64)]) {
      expect(() => signatureDomain(bad), bad).toThrow(/not a pool id/);
      expect(() => new SignatureVerifier({ poolId: bad, resolver: new DerivedInboxResolver() })).toThrow();
    }
  });

  it("covers the content a patch or rollback results in, after its own fields (docs/signatures.md)", async () => {
    const names = (op: keyof typeof SIGNED_TYPES) => SIGNED_TYPES[op].map((f) => f.name);
    expect(names("PatchTemplate")).toEqual([
      "inboxId",
      "templateId",
      "version",
      "patchHash",
      "contentHash",
      "issuedAt",
      "nonce",
    ]);
    expect(names("RollbackTemplate")).toEqual([
      "inboxId",
      "templateId",
      "version",
      "targetVersion",
      "contentHash",
      "issuedAt",
      "nonce",
    ]);
    const patch = { ...fields, patchHash: jsonHash({ tags: [] }), contentHash: jsonHash({ instructions: "a" }) };
    const sig = await signOperation(account, "PatchTemplate", patch);
    expect(await codeOf(verifier.verify("PatchTemplate", patch, sig))).toBe("ok");
    expect(
      await codeOf(verifier.verify("PatchTemplate", { ...patch, contentHash: jsonHash({ instructions: "b" }) }, sig)),
    ).toBe("PermissionDenied");
    const rollback = { ...fields, targetVersion: 1n, contentHash: jsonHash({ instructions: "a" }) };
    const rb = await signOperation(account, "RollbackTemplate", rollback);
    expect(await codeOf(verifier.verify("RollbackTemplate", rollback, rb))).toBe("ok");
    expect(
      await codeOf(
        verifier.verify("RollbackTemplate", { ...rollback, contentHash: jsonHash({ instructions: "b" }) }, rb),
      ),
    ).toBe("PermissionDenied");
  });

  it("signs the wallet's removal only when it is acknowledged: unset, the typed data is the type as before; set, neither can stand for the other", async () => {
    const update = { ...fields, contentHash: jsonHash({ instructions: "a" }) };
    expect(signedTypeOf("UpdateTemplate", { ...update, acknowledgeWalletRemoval: false })).toBe(
      SIGNED_TYPES.UpdateTemplate,
    );
    expect(signedTypeOf("UpdateTemplate", { ...update, acknowledgeWalletRemoval: true }).map((f) => f.name)).toEqual([
      "inboxId",
      "templateId",
      "version",
      "contentHash",
      "acknowledgeWalletRemoval",
      "issuedAt",
      "nonce",
    ]);
    // Made as a client that never heard of the field signs (the type as it was), it checks out with it false.
    const plain = await signOperation(account, "UpdateTemplate", update);
    const asBefore = await recoverTypedDataAddress({
      domain: signatureDomain(LOCAL_POOL_ID),
      types: {
        UpdateTemplate: [
          { name: "inboxId", type: "string" },
          { name: "templateId", type: "string" },
          { name: "version", type: "uint64" },
          { name: "contentHash", type: "bytes32" },
          { name: "issuedAt", type: "uint64" },
          { name: "nonce", type: "bytes32" },
        ],
      },
      primaryType: "UpdateTemplate",
      message: { ...update, contentHash: update.contentHash, issuedAt: plain.issuedAt, nonce: plain.nonce as Hex },
      signature: plain.signature as Hex,
    });
    expect(asBefore).toBe(account.address);
    expect(await codeOf(verifier.verify("UpdateTemplate", { ...update, acknowledgeWalletRemoval: false }, plain))).toBe(
      "ok",
    );
    expect(await codeOf(verifier.verify("UpdateTemplate", { ...update, acknowledgeWalletRemoval: true }, plain))).toBe(
      "PermissionDenied",
    );
    const acked = await signOperation(account, "UpdateTemplate", { ...update, acknowledgeWalletRemoval: true });
    expect(await codeOf(verifier.verify("UpdateTemplate", { ...update, acknowledgeWalletRemoval: true }, acked))).toBe(
      "ok",
    );
    expect(await codeOf(verifier.verify("UpdateTemplate", update, acked))).toBe("PermissionDenied");
  });

  it("signs a second agent's confirmation only when given: a claim signed as before (in agents' certificates) still checks out, and neither stands for the other", async () => {
    const base = {
      inboxId,
      templateId: fields.templateId,
      inviteHash: inviteHash("https://dev.convos.org/v2?i=a"),
      model: "",
      userConfigHash: jsonHash({ instructions: "" }),
    };
    expect(signedTypeOf("ClaimAgent", { ...base, secondAgent: false }).map((f) => f.name)).toEqual([
      "inboxId",
      "templateId",
      "inviteHash",
      "model",
      "userConfigHash",
      "issuedAt",
      "nonce",
    ]);
    const plain = await signOperation(account, "ClaimAgent", base);
    expect(await codeOf(verifier.verify("ClaimAgent", { ...base, secondAgent: false }, plain))).toBe("ok");
    expect(await codeOf(verifier.verify("ClaimAgent", { ...base, secondAgent: true }, plain))).toBe("PermissionDenied");
    const confirmed = await signOperation(account, "ClaimAgent", { ...base, secondAgent: true });
    expect(await codeOf(verifier.verify("ClaimAgent", { ...base, secondAgent: true }, confirmed))).toBe("ok");
    expect(await codeOf(verifier.verify("ClaimAgent", base, confirmed))).toBe("PermissionDenied");
  });

  it("keeps signatures inside the issuedAt window", async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = await signOperation(account, "ArchiveTemplate", fields, now - 301);
    const future = await signOperation(account, "ArchiveTemplate", fields, now + 120);
    const recent = await signOperation(account, "ArchiveTemplate", fields, now - 290);
    expect(await codeOf(verifier.verify("ArchiveTemplate", fields, old))).toBe("Unauthenticated");
    expect(await codeOf(verifier.verify("ArchiveTemplate", fields, future))).toBe("Unauthenticated");
    expect(await codeOf(verifier.verify("ArchiveTemplate", fields, recent))).toBe("ok");
  });
});

describe("the owner's operations of one agent in several conversations", () => {
  const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
  const instanceId = "inst_0123456789abcdef";
  const conversationId = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
  const invite = "https://dev.convos.org/v2?i=dinner-club";
  const typeOf = (op: keyof typeof SIGNED_TYPES) => SIGNED_TYPES[op].map((f) => `${f.name} ${f.type}`);

  it("gives each its own type, with the fields docs/signatures.md lists", () => {
    const envelope = ["issuedAt uint64", "nonce bytes32"];
    expect(typeOf("AddToConversation")).toEqual([
      "inboxId string",
      "instanceId string",
      "inviteHash bytes32",
      "mode uint8",
      "cooldownSeconds uint32",
      "tools uint8",
      ...envelope,
    ]);
    expect(typeOf("RemoveFromConversation")).toEqual([
      "inboxId string",
      "instanceId string",
      "conversationId string",
      ...envelope,
    ]);
    expect(typeOf("SetConversationParticipation")).toEqual([
      "inboxId string",
      "instanceId string",
      "conversationId string",
      "mode uint8",
      "cooldownSeconds uint32",
      ...envelope,
    ]);
    expect(typeOf("ShareMemory")).toEqual([
      "inboxId string",
      "instanceId string",
      "entryIds string",
      "share bool",
      ...envelope,
    ]);
  });

  it("builds an addition's fields from the request: the invite's hash as a claim's, participation's defaults filled in, tools shared unless none", () => {
    const add = { ownerId: inboxId, instanceId, conversationInvite: `  ${invite}\n` };
    expect(addToConversationFields(add)).toEqual({
      inboxId,
      instanceId,
      inviteHash: inviteHash(invite),
      mode: ParticipationMode.UNSPECIFIED,
      cooldownSeconds: 0,
      tools: ConversationTools.SHARED,
      secondAgent: false,
    });
    expect(addToConversationFields({ ...add, tools: ConversationTools.UNSPECIFIED }).tools).toBe(
      ConversationTools.SHARED,
    );
    const quiet = addToConversationFields({
      ...add,
      participation: { mode: ParticipationMode.MENTION, cooldownSeconds: 600 },
      tools: ConversationTools.NONE,
    });
    expect(quiet).toMatchObject({
      mode: ParticipationMode.MENTION,
      cooldownSeconds: 600,
      tools: ConversationTools.NONE,
    });
    expect(() => addToConversationFields({ ...add, tools: 3 as ConversationTools })).toThrow(/tools: must be shared/);
    expect(() => addToConversationFields({ ...add, participation: { cooldownSeconds: 86_401 } })).toThrow(
      /participation\.cooldown_seconds/,
    );
    expect(shareMemoryFields({ ownerId: inboxId, instanceId, entryIds: ["mem_a", "mem_b"], share: true })).toEqual({
      inboxId,
      instanceId,
      entryIds: "mem_a,mem_b",
      share: true,
    });
  });

  it("signs a second agent's confirmation of an addition only when given, and neither stands for the other", async () => {
    const add = { ownerId: inboxId, instanceId, conversationInvite: invite };
    const base = addToConversationFields(add);
    const confirmedFields = addToConversationFields({ ...add, secondAgent: true });
    expect(signedTypeOf("AddToConversation", base)).toBe(SIGNED_TYPES.AddToConversation);
    expect(signedTypeOf("AddToConversation", confirmedFields).map((f) => f.name)).toEqual([
      "inboxId",
      "instanceId",
      "inviteHash",
      "mode",
      "cooldownSeconds",
      "tools",
      "secondAgent",
      "issuedAt",
      "nonce",
    ]);
    const plain = await signAddToConversation(account, add);
    expect(await codeOf(verifier.verify("AddToConversation", base, plain))).toBe("ok");
    expect(await codeOf(verifier.verify("AddToConversation", confirmedFields, plain))).toBe("PermissionDenied");
    const confirmed = await signAddToConversation(account, { ...add, secondAgent: true });
    expect(await codeOf(verifier.verify("AddToConversation", confirmedFields, confirmed))).toBe("ok");
    expect(await codeOf(verifier.verify("AddToConversation", base, confirmed))).toBe("PermissionDenied");
    // Another invite, participation or tools than the owner signed.
    for (const changed of [
      { ...base, inviteHash: inviteHash("https://dev.convos.org/v2?i=other") },
      { ...base, mode: ParticipationMode.SPEAK },
      { ...base, tools: ConversationTools.NONE },
    ])
      expect(await codeOf(verifier.verify("AddToConversation", changed, plain))).toBe("PermissionDenied");
  });

  it("accepts a signature of one operation as no other: the home's participation never applies to another conversation", async () => {
    const participation = { mode: ParticipationMode.PAUSED, cooldownSeconds: 0 };
    const ids = { inboxId, instanceId };
    const cases = {
      AddToConversation: addToConversationFields({ ownerId: inboxId, instanceId, conversationInvite: invite }),
      RemoveFromConversation: { ...ids, conversationId },
      SetConversationParticipation: { ...ids, conversationId, ...participation },
      ShareMemory: shareMemoryFields({ ownerId: inboxId, instanceId, entryIds: ["mem_0123456789ab"], share: true }),
      // The operations they are modelled on, with the fields they have in common.
      SetParticipation: { ...ids, ...participation },
      RemoveAgent: ids,
      ForgetMemory: { ...ids, entryIds: "mem_0123456789ab" },
    } as const;
    const ops = Object.keys(cases) as (keyof typeof cases)[];
    for (const signed of ops) {
      const sig = await signOperation(account, signed, cases[signed]);
      expect(await codeOf(verifier.verify(signed, cases[signed], sig)), signed).toBe("ok");
      for (const other of ops.filter((o) => o !== signed))
        expect(await codeOf(verifier.verify(other, cases[other], sig)), `${signed} as ${other}`).toBe(
          "PermissionDenied",
        );
    }
    // Within its own type, another conversation or share is refused.
    const sig = await signOperation(account, "SetConversationParticipation", cases.SetConversationParticipation);
    const elsewhere = { ...cases.SetConversationParticipation, conversationId: `${conversationId.slice(0, -1)}1` };
    expect(await codeOf(verifier.verify("SetConversationParticipation", elsewhere, sig))).toBe("PermissionDenied");
    const shared = await signOperation(account, "ShareMemory", cases.ShareMemory);
    expect(await codeOf(verifier.verify("ShareMemory", { ...cases.ShareMemory, share: false }, shared))).toBe(
      "PermissionDenied",
    );
  });
});

describe("inbox derivation and canonical hashing", () => {
  it("derives XMTP inbox IDs from the lower-case address and a nonce", async () => {
    expect(deriveInboxId(account.address)).toBe(deriveInboxId(account.address.toLowerCase()));
    expect(deriveInboxId(account.address, 0)).not.toBe(deriveInboxId(account.address, 1));
    // The text "0x…1" is hashed as text, not read as hex bytes.
    const text = `${account.address.toLowerCase()}1`;
    expect(deriveInboxId(account.address)).toBe(createHash("sha256").update(text).digest("hex"));
    const resolver = new DerivedInboxResolver();
    expect(await resolver.addressBelongsToInbox(account.address, deriveInboxId(account.address, 0))).toBe(true);
    expect(await resolver.addressBelongsToInbox(account.address, deriveInboxId(account.address, 7))).toBe(false);
  });

  it("hashes content independently of key order", () => {
    expect(canonicalJson({ b: [2, { y: 1, x: "é" }], a: true })).toBe('{"a":true,"b":[2,{"x":"é","y":1}]}');
    const a = jsonHash({ agent_name: "A", tags: ["x", "y"] });
    expect(jsonHash({ tags: ["x", "y"], agent_name: "A" })).toBe(a);
    expect(jsonHash({ tags: ["y", "x"], agent_name: "A" })).not.toBe(a);
  });
});
