// The agent's side of its owner's address-book calls, fast: the real
// handlers over an in-memory Connect transport, with a real wallet, address
// book on disk, nonce file and signature verifier (inboxes derived offline);
// no XMTP. The same calls through the claims service, the gateway and the
// CLI are in services/e2e/src/address-book-e2e.int.test.ts.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { bytesToHex, sha256 } from "viem";
import { InstanceAddressBookService } from "@convos-pool/gen/convos/pool/v1/instance_address_book_service_pb.js";
import {
  DerivedInboxResolver,
  LOCAL_POOL_ID,
  SignatureVerifier,
  openSealed,
  sealTo,
  signOperation,
  x25519KeyPair,
  x25519PublicKey,
  type SealedBoxBytes,
} from "@convos-pool/kit/signing";
import { createLogger } from "@convos-pool/kit/server";
import { fieldViolations } from "@convos-pool/kit/content";
import { newIdentity, type TestIdentity } from "@convos-pool/kit/testing";
import { MasterSeed } from "@convos-pool/kit/signing";
import { walletAt } from "../../platform/keys.js";
import { SpentNonces } from "../../platform/nonces.js";
import { FILES, Workspace } from "../../platform/workspace.js";
import type { Contact } from "./policy.js";
import { AddressBook } from "./store.js";
import { createInstanceAddressBookService, type AddressBookAccess } from "./service.js";

const ANA = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const dataDir = await mkdtemp(`${tmpdir()}/address-book-service-`);
const wallet = walletAt(MasterSeed.parse(randomBytes(32).toString("hex")), 3);
const memoryKey = x25519PublicKey(wallet.memorySealingKey());
const owner = newIdentity();
/** Someone else in the owner's conversation. */
const member = newIdentity();
let ws: Workspace;
let book: AddressBook;
let client: Client<typeof InstanceAddressBookService>;

beforeEach(async () => {
  ws = new Workspace(dataDir, `inst_book${randomBytes(3).toString("hex")}`);
  await ws.create();
  book = await AddressBook.open(ws, wallet.addressBookKey());
  const nonces = await SpentNonces.open(ws);
  const access: AddressBookAccess = {
    instanceId: ws.instanceId,
    ownerId: owner.inboxId,
    verifier: new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() }),
    spendNonce: (nonce) => nonces.spend(nonce, Date.now() / 1000 + 600),
    book,
    sealingKey: wallet.memorySealingKey(),
    log: createLogger("address-book-service-test", { level: "silent" }),
  };
  const transport = createRouterTransport(({ service }) =>
    service(
      InstanceAddressBookService,
      createInstanceAddressBookService(() => ({ addressBookCall: (job) => job(access) })),
    ),
  );
  client = createClient(InstanceAddressBookService, transport);
});

afterAll(() => rm(dataDir, { recursive: true, force: true }));

type Fields = Record<string, string>;
const sign = (op: "ListContacts" | "SaveContact" | "RemoveContacts", fields: Fields, signer: TestIdentity = owner) =>
  signOperation(signer.account, op, { inboxId: signer.inboxId, instanceId: ws.instanceId, ...fields });

const sealed = (contact: unknown, to = memoryKey) =>
  sealTo(to, new TextEncoder().encode(typeof contact === "string" ? contact : JSON.stringify(contact)));

/** The owner's SaveContact of `box`, signed over its digest (by `signer`, for `instanceId`). */
async function save(box: SealedBoxBytes, opts: { signer?: TestIdentity; ownerId?: string; instanceId?: string } = {}) {
  const signer = opts.signer ?? owner;
  const signature = await signOperation(signer.account, "SaveContact", {
    inboxId: signer.inboxId,
    instanceId: opts.instanceId ?? ws.instanceId,
    sealedDigest: sha256(box.ciphertext),
  });
  return client.saveContact({ ownerId: opts.ownerId ?? owner.inboxId, sealed: box, signature });
}

async function refused(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err, "expected a refusal").toBeDefined();
  expect(Code[err!.code], err!.rawMessage).toBe(Code[code]);
  return err!;
}

/** Nothing written: no contact, and no file. */
async function nothingWritten(): Promise<void> {
  expect(book.list()).toEqual([]);
  await expect(readFile(ws.path(FILES.addressBook))).rejects.toThrow(/ENOENT/);
}

describe("InstanceAddressBookService", () => {
  it("saves the owner's contact sealed to its memory key, lists it sealed to the owner's signed key, removes it by id", async () => {
    const first = await save(await sealed({ name: "Ana", kind: "address", value: ANA.toLowerCase() }));
    expect(first.contactId).toMatch(/^ab_[0-9a-f]{12}$/);
    expect(first.replacedId).toBe("");
    const second = await save(await sealed({ name: "ana", kind: "address", value: ANA }));
    expect(second).toMatchObject({ contactId: first.contactId, replacedId: "" });
    expect(book.list()).toMatchObject([{ id: first.contactId, name: "Ana", value: ANA, via: "signed" }]);

    const key = x25519KeyPair();
    const listed = await client.listContacts({
      ownerId: owner.inboxId,
      recipientKey: key.publicKey,
      signature: await sign("ListContacts", { recipientKey: bytesToHex(key.publicKey) }),
    });
    expect(listed.count).toBe(1);
    const { contacts } = JSON.parse(new TextDecoder().decode(await openSealed(key.privateKey, listed.sealed!))) as {
      contacts: Contact[];
    };
    expect(contacts).toEqual(book.list());

    const ids = [first.contactId, "ab_000000000000"];
    const removed = await client.removeContacts({
      ownerId: owner.inboxId,
      contactIds: ids,
      signature: await sign("RemoveContacts", { contactIds: ids.join(",") }),
    });
    expect(removed).toMatchObject({ removed: 1, notFound: ["ab_000000000000"] });
    expect(book.list()).toEqual([]);
  });

  it("a new value for a name and kind it has replaces the contact, and says which", async () => {
    const first = await save(await sealed({ name: "Bob", kind: "phone", value: "+1 555 010 0111" }));
    const second = await save(await sealed({ name: "BOB", kind: "phone", value: "+1 555 010 0112" }));
    expect(second.replacedId).toBe(first.contactId);
    expect(book.list().map((c) => c.value)).toEqual(["+15550100112"]);
  });

  it("refuses a member's signature, one for another instance, one over other bytes, and a replayed one: nothing written", async () => {
    const box = await sealed({ name: "Ana", kind: "address", value: ANA });
    // A member signs as themselves, naming themselves the owner: not its owner.
    await refused(save(box, { signer: member, ownerId: member.inboxId }), Code.PermissionDenied);
    // A member's signature passed off as the owner's.
    await refused(save(box, { signer: member }), Code.PermissionDenied);
    // The owner's own signature, made for another of their agents.
    await refused(save(box, { instanceId: "inst_another_agent" }), Code.PermissionDenied);
    // The owner's signature over another sealed contact.
    const other = await sealed({ name: "Ana", kind: "address", value: "0x2546BcD3c84621e976D8185a91A922aE77ECEc30" });
    const signature = await signOperation(owner.account, "SaveContact", {
      inboxId: owner.inboxId,
      instanceId: ws.instanceId,
      sealedDigest: sha256(other.ciphertext),
    });
    await refused(client.saveContact({ ownerId: owner.inboxId, sealed: box, signature }), Code.PermissionDenied);
    await refused(client.saveContact({ ownerId: owner.inboxId, sealed: box }), Code.Unauthenticated);
    await nothingWritten();

    // The owner's signature, once; the same again is a replay.
    const once = await signOperation(owner.account, "SaveContact", {
      inboxId: owner.inboxId,
      instanceId: ws.instanceId,
      sealedDigest: sha256(box.ciphertext),
    });
    await client.saveContact({ ownerId: owner.inboxId, sealed: box, signature: once });
    const [saved] = book.list();
    await book.remove([saved!.id]);
    const replay = await refused(
      client.saveContact({ ownerId: owner.inboxId, sealed: box, signature: once }),
      Code.Unauthenticated,
    );
    expect(replay.rawMessage).toContain("already used");
    expect(book.list()).toEqual([]);
  });

  it("refuses a listing or a removal signed by a member, for another instance, or again", async () => {
    const key = x25519KeyPair();
    const list = (signature: Awaited<ReturnType<typeof sign>>, ownerId = owner.inboxId) =>
      client.listContacts({ ownerId, recipientKey: key.publicKey, signature });
    const fields = { recipientKey: bytesToHex(key.publicKey) };
    await refused(list(await sign("ListContacts", fields, member), member.inboxId), Code.PermissionDenied);
    await refused(list(await sign("ListContacts", fields, member)), Code.PermissionDenied);
    await refused(
      list(await sign("ListContacts", { recipientKey: bytesToHex(x25519KeyPair().publicKey) })),
      Code.PermissionDenied,
    );
    const once = await sign("ListContacts", fields);
    await list(once);
    await refused(list(once), Code.Unauthenticated);

    const contact = await save(await sealed({ name: "Ana", kind: "address", value: ANA }));
    const ids = [contact.contactId];
    const remove = (signature: Awaited<ReturnType<typeof sign>>, ownerId = owner.inboxId) =>
      client.removeContacts({ ownerId, contactIds: ids, signature });
    await refused(
      remove(await sign("RemoveContacts", { contactIds: ids[0]! }, member), member.inboxId),
      Code.PermissionDenied,
    );
    await refused(remove(await sign("RemoveContacts", { contactIds: ids[0]! }, member)), Code.PermissionDenied);
    await refused(
      remove(
        await signOperation(owner.account, "RemoveContacts", {
          inboxId: owner.inboxId,
          instanceId: "inst_another_agent",
          contactIds: ids[0]!,
        }),
      ),
      Code.PermissionDenied,
    );
    expect(book.list()).toHaveLength(1);
  });

  it("refuses what is not a contact, naming the field, before it spends the owner's signature", async () => {
    const cases: [unknown, string][] = [
      [{ name: "Ana", kind: "wallet", value: ANA }, "contact.kind"],
      [{ name: "", kind: "address", value: ANA }, "contact.name"],
      [{ name: "Ana", kind: "phone", value: "555 010 0111" }, "contact.value"],
      [{ name: "Ana", kind: "mailbox" }, "contact.value"],
      ["not json", "sealed"],
      [[1, 2], "sealed"],
    ];
    for (const [contact, field] of cases) {
      const box = await sealed(contact);
      const signature = await signOperation(owner.account, "SaveContact", {
        inboxId: owner.inboxId,
        instanceId: ws.instanceId,
        sealedDigest: sha256(box.ciphertext),
      });
      const err = await refused(
        client.saveContact({ ownerId: owner.inboxId, sealed: box, signature }),
        Code.InvalidArgument,
      );
      expect(fieldViolations(err)[0]?.field, JSON.stringify(contact)).toBe(field);
    }
    const toOther = await sealed({ name: "Ana", kind: "address", value: ANA }, x25519KeyPair().publicKey);
    expect(fieldViolations(await refused(save(toOther), Code.InvalidArgument))[0]?.field).toBe("sealed");
    await nothingWritten();
    const key = x25519KeyPair();
    const short = await refused(
      client.listContacts({
        ownerId: owner.inboxId,
        recipientKey: new Uint8Array(31),
        signature: await sign("ListContacts", { recipientKey: bytesToHex(key.publicKey) }),
      }),
      Code.InvalidArgument,
    );
    expect(fieldViolations(short)[0]?.field).toBe("recipient_key");
    const badIds = [
      [[], "contact_ids"],
      [["ab_0000000000zz"], "contact_ids[0]"],
      [Array.from({ length: 101 }, () => "ab_000000000000"), "contact_ids"],
    ] as const;
    for (const [contactIds, field] of badIds) {
      const err = await refused(
        client.removeContacts({
          ownerId: owner.inboxId,
          contactIds: [...contactIds],
          signature: await sign("RemoveContacts", { contactIds: contactIds.join(",") }),
        }),
        Code.InvalidArgument,
      );
      expect(fieldViolations(err)[0]?.field).toBe(field);
    }
    // Each refused before its signature was checked: no nonce spent, so the owner signs again for the fixed request.
    await expect(readFile(ws.path(FILES.nonces))).rejects.toThrow(/ENOENT/);
  });
});
