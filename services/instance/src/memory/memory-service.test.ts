// The agent's side of its owner's memory calls, fast: the real handlers over
// an in-memory Connect transport, with a real wallet, memory, nonce file and
// signature verifier (inboxes derived offline); no XMTP. The same calls over
// the real stack are in services/e2e/src/memory-e2e.int.test.ts.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { bytesToHex, sha256 } from "viem";
import { InstanceMemoryService } from "@convos-pool/gen/convos/pool/v1/instance_memory_service_pb.js";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  createLogger,
  deriveInboxId,
  fieldViolations,
  openSealed,
  sealTo,
  signOperation,
  verifyMemoryKey,
  x25519KeyPair,
  LOCAL_POOL_ID,
} from "@convos-pool/kit";
import { newIdentity, type TestIdentity } from "@convos-pool/kit/testing";
import { SpentNonces } from "../platform/nonces.js";
import { OfflineProvider } from "../model/offline.js";
import { summarizeConversation } from "../model/conversation-summary.js";
import { createInstanceMemoryService, type MemoryAccess } from "./memory-service.js";
import { Memory } from "./store.js";
import { readSharing, writeSharing } from "./sharing.js";
import { MasterSeed } from "../platform/keys.js";
import { Workspace } from "../platform/workspace.js";

const INSTANCE = "inst_memorytest0001";
const dataDir = await mkdtemp(`${tmpdir()}/memory-service-`);
const wallet = MasterSeed.parse(randomBytes(32).toString("hex")).wallet(7);
const owner = newIdentity();
let memory: Memory;
let saves: number;
let client: Client<typeof InstanceMemoryService>;
let ws: Workspace;

beforeEach(async () => {
  ws = new Workspace(dataDir, `${INSTANCE}${randomBytes(2).toString("hex")}`);
  await ws.create();
  memory = new Memory();
  memory.add([
    { kind: "training", text: "Always confirm the date before booking" },
    {
      kind: "personalization",
      text: "Saul is vegetarian",
      feedback: { messageId: "m1", signal: "correction", about: "the steakhouse" },
    },
    { kind: "credentials", text: "the phone number for bookings is +15550101234" },
  ]);
  saves = 0;
  const nonces = await SpentNonces.open(ws);
  const log = createLogger("memory-service-test", { level: "silent" });
  const access: MemoryAccess = {
    instanceId: ws.instanceId,
    inboxId: deriveInboxId(wallet.address),
    ownerId: owner.inboxId,
    agentName: "Trip Planner",
    model: "",
    template: { templateId: "tmpl_trip", creatorId: "c".repeat(64), version: "2", baseVersions: [] },
    userConfig: { "personal-email": "saul@example.com" },
    wallet,
    memory,
    saveMemory: async () => void saves++,
    toolCredentials: async () => ({ email: { password: "hunter2-secret" } }),
    conversationSummary: () =>
      summarizeConversation(
        { agentName: "Trip Planner", model: "", llm: new OfflineProvider(), log },
        [{ role: "user", sender: "Saul", text: "Remember that the phone number for bookings is +15550101234." }],
        2,
      ),
    verifier: new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() }),
    spendNonce: (nonce) => nonces.spend(nonce, Date.now() / 1000 + 600),
    setSharing: (s) => writeSharing(ws, s),
    log,
  };
  const transport = createRouterTransport(({ service }) =>
    service(
      InstanceMemoryService,
      createInstanceMemoryService(() => ({ memoryCall: (job) => job(access) })),
    ),
  );
  client = createClient(InstanceMemoryService, transport);
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const sign = (
  op: Parameters<typeof signOperation>[1],
  fields: Record<string, string | boolean>,
  signer: TestIdentity = owner,
) => signOperation(signer.account, op, { inboxId: owner.inboxId, instanceId: ws.instanceId, ...fields });

async function refused(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err, "expected a refusal").toBeDefined();
  expect(Code[err!.code], err!.rawMessage).toBe(Code[code]);
  return err!;
}

describe("InstanceMemoryService", () => {
  it("exports the memory sealed to the owner's signed key, secrets named and the conversation masked", async () => {
    const key = x25519KeyPair();
    const signature = await sign("ExportMemory", { recipientKey: bytesToHex(key.publicKey) });
    const res = await client.exportMemory({ ownerId: owner.inboxId, recipientKey: key.publicKey, signature });
    expect(res.counts).toMatchObject({ training: 1, personalization: 1, credentials: 1, feedback: 1 });
    expect(res.secretsStripped).toBe(3);
    const file = JSON.parse(new TextDecoder().decode(await openSealed(key.privateKey, res.sealed!)));
    expect(file.entries).toHaveLength(2);
    expect(file.conversationSummary.lines).toEqual(["Saul: Remember that the phone number for bookings is [number]."]);
    for (const secret of ["+15550101234", "hunter2-secret", "saul@example.com"])
      expect(JSON.stringify(file)).not.toContain(secret);
  });

  it("refuses a signature that is not the owner's, over another key, or used before, and a key of the wrong length naming it", async () => {
    const key = x25519KeyPair();
    const stranger = newIdentity();
    const call = (signature: Awaited<ReturnType<typeof sign>>, ownerId = owner.inboxId, recipientKey = key.publicKey) =>
      client.exportMemory({ ownerId, recipientKey, signature });
    await refused(
      call(await sign("ExportMemory", { recipientKey: bytesToHex(key.publicKey) }, stranger)),
      Code.PermissionDenied,
    );
    await refused(
      call(await sign("ExportMemory", { recipientKey: bytesToHex(key.publicKey) }), stranger.inboxId),
      Code.PermissionDenied,
    );
    await refused(
      call(await sign("ExportMemory", { recipientKey: bytesToHex(x25519KeyPair().publicKey) })),
      Code.PermissionDenied,
    );
    const once = await sign("ExportMemory", { recipientKey: bytesToHex(key.publicKey) });
    await call(once);
    expect((await refused(call(once), Code.Unauthenticated)).rawMessage).toContain("already used");
    const short = await refused(call(once, owner.inboxId, new Uint8Array(31)), Code.InvalidArgument);
    expect(fieldViolations(short)[0]?.field).toBe("recipient_key");
    await refused(client.exportMemory({ ownerId: owner.inboxId, recipientKey: key.publicKey }), Code.Unauthenticated);
  });

  it("gives a memory key its wallet signed; imports what is sealed to it, counting duplicates and missing secrets", async () => {
    const { key } = await client.getMemoryKey({});
    await verifyMemoryKey(key!, ws.instanceId, deriveInboxId(wallet.address));
    const file = {
      format: "convos-pool.agent-memory",
      version: 1,
      entries: [
        { kind: "training", text: "always confirm the date before booking." },
        { kind: "training", text: "Only book refundable fares", adoptedFrom: "pat_1" },
      ],
      secrets: [
        { name: "memory:mem_0123456789ab", kind: "memory", about: "x" },
        { name: "tool:email.password", kind: "tool", about: "y" },
      ],
      suppliedSecrets: { "memory:mem_0123456789ab": "our account id is 42" },
    };
    const sealed = await sealTo(key!.publicKey, new TextEncoder().encode(JSON.stringify(file)));
    const signature = await sign("ImportMemory", { sealedDigest: sha256(sealed.ciphertext) });
    const report = await client.importMemory({ ownerId: owner.inboxId, sealed, signature });
    expect(report.added).toMatchObject({ training: 1, credentials: 1, adopted: 1 });
    expect(report.duplicates).toBe(1);
    expect(report.secretsMissing).toEqual(["tool:email.password"]);
    expect(saves).toBe(1);
    expect(memory.entries.filter((e) => e.imported).map((e) => e.text)).toEqual([
      "Only book refundable fares",
      "our account id is 42",
    ]);
  });

  it("refuses an import sealed to another key, changed on the way, signed over other bytes, or not an agent-memory file", async () => {
    const { key } = await client.getMemoryKey({});
    const plain = new TextEncoder().encode(
      JSON.stringify({ format: "convos-pool.agent-memory", version: 1, entries: [] }),
    );
    const importOf = async (sealed: Awaited<ReturnType<typeof sealTo>>, digestOf = sealed.ciphertext) =>
      client.importMemory({
        ownerId: owner.inboxId,
        sealed,
        signature: await sign("ImportMemory", { sealedDigest: sha256(digestOf) }),
      });
    const toOther = await sealTo(x25519KeyPair().publicKey, plain);
    expect(fieldViolations(await refused(importOf(toOther), Code.InvalidArgument))[0]?.field).toBe("sealed");
    const good = await sealTo(key!.publicKey, plain);
    const changed = { ...good, ciphertext: good.ciphertext.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    await refused(importOf(changed), Code.InvalidArgument);
    await refused(importOf(good, new Uint8Array([1, 2, 3])), Code.PermissionDenied);
    const v2 = await sealTo(
      key!.publicKey,
      new TextEncoder().encode(JSON.stringify({ format: "convos-pool.agent-memory", version: 2, entries: [] })),
    );
    expect((await refused(importOf(v2), Code.InvalidArgument)).rawMessage).toContain("version 2");
    await refused(client.importMemory({ ownerId: owner.inboxId }), Code.InvalidArgument);
  });

  it("lists (feedback only too), forgets by id naming a bad one, and keeps the owner's sharing choice", async () => {
    const key = x25519KeyPair();
    const listed = await client.listMemory({
      ownerId: owner.inboxId,
      recipientKey: key.publicKey,
      feedbackOnly: true,
      signature: await sign("ListMemory", { recipientKey: bytesToHex(key.publicKey), feedbackOnly: true }),
    });
    const { entries } = JSON.parse(new TextDecoder().decode(await openSealed(key.privateKey, listed.sealed!)));
    expect(entries.map((e: { text: string }) => e.text)).toEqual(["Saul is vegetarian"]);

    const id = memory.entries[0]!.id;
    const forget = async (ids: string[]) =>
      client.forgetMemory({
        ownerId: owner.inboxId,
        entryIds: ids,
        signature: await sign("ForgetMemory", { entryIds: ids.join(",") }),
      });
    expect(await forget([id, "mem_000000000000"])).toMatchObject({ forgotten: 1, notFound: ["mem_000000000000"] });
    expect(memory.entries).toHaveLength(2);
    expect(fieldViolations(await refused(forget(["mem_x"]), Code.InvalidArgument))[0]?.field).toBe("entry_ids[0]");
    expect(fieldViolations(await refused(forget([]), Code.InvalidArgument))[0]?.field).toBe("entry_ids");

    expect(await readSharing(ws)).toEqual({ offer: false, adopt: false });
    const res = await client.setPatternSharing({
      ownerId: owner.inboxId,
      sharing: { offer: true, adopt: false },
      signature: await sign("SetPatternSharing", { offer: true, adopt: false }),
    });
    expect(res.sharing).toMatchObject({ offer: true, adopt: false });
    expect(await readSharing(ws)).toMatchObject({ offer: true, adopt: false, setAt: expect.any(String) });
    await refused(
      client.setPatternSharing({
        ownerId: owner.inboxId,
        sharing: { offer: true, adopt: true },
        signature: await sign("SetPatternSharing", { offer: true, adopt: false }),
      }),
      Code.PermissionDenied,
    );
  });
});
