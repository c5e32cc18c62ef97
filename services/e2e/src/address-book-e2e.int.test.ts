// The owner's address book end to end (docs/address-book.md), every part
// real: PostgreSQL, the local XMTP node, the template, claims and lineage
// services, an instance host (offline model), and a conversation of the
// owner Saul (a real Convos CLI, serving it) and Ana (a person as the Convos
// apps show one), joined by invite. Saul saves a contact in the chat and
// confirms it with 👍 while the conversation goes on; Ana's "yes" and 👍 on
// the question answer nothing, and her own save requests ask nothing and
// save nothing. Then Saul lists, saves and removes contacts over Connect,
// strangers get NOT_FOUND there and PERMISSION_DENIED past the pool; and the
// same through the gateway's REST paths and the pool CLI. Last: no contact
// value is in any of the pool's databases or logs.
import { join } from "node:path";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToHex, getAddress, sha256 } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { AddressBookService } from "@convos-pool/gen/convos/pool/v1/address_book_service_pb.js";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import { InstanceAddressBookService } from "@convos-pool/gen/convos/pool/v1/instance_address_book_service_pb.js";
import { instanceCall, type Agent, type Contact } from "@convos-pool/instance";
import { createLogger, createServiceClient } from "@convos-pool/kit/server";
import { openSealed, sealTo, signOperation, verifyMemoryKey, x25519KeyPair } from "@convos-pool/kit/signing";
import { newIdentity, tool, type TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import type { Person } from "@convos-pool/convos/person";
import type { ConvosCli } from "@convos-pool/testing/convos-cli";
import { said, saidMessage } from "@convos-pool/testing/convos-cli";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { run as pool } from "@convos-pool/cli";
import { as, databaseText, expectCode } from "@convos-pool/claims/testing";
import { PeopleStack } from "./people-stack.js";

const people = new PeopleStack({
  stack: {
    name: "address-book-e2e",
    conversationName: "Book club",
    host: { joinTimeoutMs: 15_000, tools: { approvalTimeoutMs: 90_000 } },
    claims: { pool: { target: 1 } },
  },
  template: { agent_name: "Concierge", tools: [tool("crypto", "pool")] },
  people: ["Ana"],
});
const stack = people.stack;

/** Ana's wallet as Saul writes it (lower case); the agent keeps it checksummed. */
const ANA_WALLET = privateKeyToAccount(generatePrivateKey()).address.toLowerCase();
const ANA_CHECKSUMMED = getAddress(ANA_WALLET);
/** What Ana would rather be paid at. */
const ANA_OWN = privateKeyToAccount(generatePrivateKey()).address;
// Away from the claims service's range of numbers (DEFAULT_SMS_RANGE), which the search below must not find.
const BOB_NUMBER = "+1 555 018 7733";
const CAROL_MAIL = "carol.reads@example.com";

let saulCli: ConvosCli;
let ana: Person;
let saul: TestIdentity;
let agent: Agent;
let instanceId = "";
let book: Client<typeof AddressBookService>;
let memory: Client<typeof AgentMemoryService>;
/** As a compromised claims service would call the agent: with the claims credential, past every pool check. */
let direct: Client<typeof InstanceAddressBookService>;
const closers: (() => void)[] = [];

/** The contacts as the agent holds them, without ids and times. */
const held = () =>
  (agent.addressBookSnapshot ?? []).map((c) => ({ name: c.name, kind: c.kind, value: c.value, via: c.via }));

/** The owner speaks and is answered: what came before it in the conversation has reached the agent. */
const saulSpeaks = async () =>
  said(saulCli, agent, await saulCli.send("Concierge, thanks"), /I read: "Concierge, thanks"/);

/** The agent's messages since the owner's CLI event `from` that ask the owner something. */
const questionsSince = (from: number) =>
  saulCli.events
    .slice(from)
    .filter(
      (e) => e.event === "message" && e.senderInboxId === agent.inboxId && /may I do this/.test(String(e.content)),
    );

/** The owner's listing over Connect, opened. */
async function listed(caller: TestIdentity = saul, signer: TestIdentity = saul): Promise<Contact[]> {
  const key = x25519KeyPair();
  const ownerSignature = await signOperation(signer.account, "ListContacts", {
    inboxId: saul.inboxId,
    instanceId,
    recipientKey: bytesToHex(key.publicKey),
  });
  const res = await book.listContacts({ instanceId, recipientKey: key.publicKey, ownerSignature }, as(caller));
  const opened = JSON.parse(new TextDecoder().decode(await openSealed(key.privateKey, res.sealed!))) as {
    contacts: Contact[];
  };
  expect(res.count).toBe(opened.contacts.length);
  return opened.contacts;
}

/** A contact sealed to the agent's memory key, once the key checks out against the agent's inbox. */
async function sealedContact(contact: { name: string; kind: string; value: string }) {
  const { key, inboxId } = await memory.getMemoryKey({ instanceId }, as(saul));
  await verifyMemoryKey(key!, instanceId, inboxId);
  return sealTo(key!.publicKey, new TextEncoder().encode(JSON.stringify(contact)));
}

beforeAll(async () => {
  ({ ownerCli: saulCli, owner: saul, agent, agentId: instanceId } = await people.start());
  ana = people.person("Ana");
  const sc = createServiceClient(AddressBookService, stack.claims!.url, stack.creds.gateway);
  const msc = createServiceClient(AgentMemoryService, stack.claims!.url, stack.creds.gateway);
  const hsc = createServiceClient(InstanceAddressBookService, stack.host!.url, stack.creds.claims);
  book = sc.client;
  memory = msc.client;
  direct = hsc.client;
  closers.push(
    () => sc.close(),
    () => msc.close(),
    () => hsc.close(),
  );
}, 240_000);

afterAll(async () => {
  for (const close of closers) close();
  await people.close();
}, 60_000);

describe("saving from the chat", () => {
  it("the owner's save request is shown back and asked; the conversation goes on while it waits; a member's yes and 👍 answer nothing; the owner's 👍 saves it", {
    timeout: 180_000,
  }, async () => {
    const from = saulCli.events.length;
    const request = await saulCli.sendMessage(`Concierge, save Ana's wallet as ${ANA_WALLET}`);
    const question = await saidMessage(saulCli, agent, from, /^Saul, may I do this\?/);
    expect(question.content).toContain(`\n\nSave to your address book: Ana, wallet ${ANA_CHECKSUMMED}\n\n`);
    // Asked in reply to the request it is about.
    expect(question.replyTo).toBe(request.id);
    expect(held()).toEqual([]);

    // It answers meanwhile: the question waits outside its turns.
    await saulSpeaks();

    // Ana answers the question as the owner would: by a reply, and by a 👍 on it.
    await ana.reply(question.id, "yes");
    await ana.react(question.id, agent.inboxId, "👍");
    // What Ana sent before reaches the agent before the owner's next message does.
    await saulSpeaks();
    expect(held()).toEqual([]);

    const reacted = await saulCli.react(question.id, "👍");
    const saved = await saidMessage(saulCli, agent, reacted, /^Saved to your address book/);
    expect(saved.content).toBe(`Saved to your address book: Ana, wallet ${ANA_CHECKSUMMED}.`);
    expect(saved.replyTo).toBe(request.id);
    expect(held()).toEqual([{ name: "Ana", kind: "address", value: ANA_CHECKSUMMED, via: "chat" }]);
    // Answered: a second 👍 saves nothing more, and asks nothing.
    await saulCli.react(question.id, "👍");
    await saulSpeaks();
    expect(held()).toHaveLength(1);
  });

  it("a member's save request asks nothing and saves nothing, for a new name or over the owner's contact", {
    timeout: 120_000,
  }, async () => {
    const from = saulCli.events.length;
    await ana.send(`Concierge, save Ana's wallet as ${ANA_OWN}`);
    await said(saulCli, agent, from, /I read:|Noted/);
    await ana.send(`Concierge, add Bob's number ${BOB_NUMBER} to my address book`);
    await said(saulCli, agent, from, /I read: "Concierge, add Bob's|Noted: .*Bob/);
    await saulSpeaks();
    expect(questionsSince(from)).toEqual([]);
    expect(held()).toEqual([{ name: "Ana", kind: "address", value: ANA_CHECKSUMMED, via: "chat" }]);
  });

  it("the owner's no saves nothing, and says so", { timeout: 120_000 }, async () => {
    const from = saulCli.events.length;
    await saulCli.send(`Concierge, save Carol's mail as ${CAROL_MAIL}`);
    const question = await saidMessage(saulCli, agent, from, /^Saul, may I do this\?/);
    expect(question.content).toContain(`Save to your address book: Carol, mail ${CAROL_MAIL}`);
    const no = (await saulCli.reply(question.id, "no")).from;
    expect(await said(saulCli, agent, no, /^Not saved/)).toBe(`Not saved (you said no): Carol, mail ${CAROL_MAIL}.`);
    expect(held()).toHaveLength(1);
  });
});

describe("the owner's address book over Connect", () => {
  it("lists it sealed to the owner's key, saves a signed contact sealed to the agent's key, removes by id", {
    timeout: 60_000,
  }, async () => {
    expect((await listed()).map((c) => [c.name, c.value, c.via])).toEqual([["Ana", ANA_CHECKSUMMED, "chat"]]);
    const sealed = await sealedContact({ name: "Bob", kind: "phone", value: BOB_NUMBER });
    const ownerSignature = await signOperation(saul.account, "SaveContact", {
      inboxId: saul.inboxId,
      instanceId,
      sealedDigest: sha256(sealed.ciphertext),
    });
    const saved = await book.saveContact({ instanceId, sealed, ownerSignature }, as(saul));
    expect(saved.replacedId).toBe("");
    // Once: the same signature again is refused by the pool.
    await expectCode(book.saveContact({ instanceId, sealed, ownerSignature }, as(saul)), Code.Unauthenticated);
    // Past the pool, the agent refuses it too: its own nonces.
    await expectCode(
      direct.saveContact({ ownerId: saul.inboxId, sealed, signature: ownerSignature }, instanceCall(instanceId)),
      Code.Unauthenticated,
    );
    const contacts = await listed();
    expect(contacts.map((c) => [c.name, c.kind, c.value, c.via])).toEqual([
      ["Ana", "address", ANA_CHECKSUMMED, "chat"],
      ["Bob", "phone", "+15550187733", "signed"],
    ]);
    const ids = [saved.contactId, "ab_000000000000"];
    const removed = await book.removeContacts(
      {
        instanceId,
        contactIds: ids,
        ownerSignature: await signOperation(saul.account, "RemoveContacts", {
          inboxId: saul.inboxId,
          instanceId,
          contactIds: ids.join(","),
        }),
      },
      as(saul),
    );
    expect(removed).toMatchObject({ removed: 1, notFound: ["ab_000000000000"] });
    expect(held().map((c) => c.name)).toEqual(["Ana"]);
  });

  it("anyone but the owner gets NOT_FOUND through the pool, and PERMISSION_DENIED past it: nothing saved", {
    timeout: 60_000,
  }, async () => {
    const stranger = newIdentity();
    await expectCode(listed(stranger, stranger), Code.NotFound);
    // The owner's session, a stranger's signature: as if the agent did not exist.
    await expectCode(listed(saul, stranger), Code.NotFound);
    const sealed = await sealedContact({ name: "Ana", kind: "address", value: ANA_OWN });
    const theirs = await signOperation(stranger.account, "SaveContact", {
      inboxId: stranger.inboxId,
      instanceId,
      sealedDigest: sha256(sealed.ciphertext),
    });
    await expectCode(book.saveContact({ instanceId, sealed, ownerSignature: theirs }, as(stranger)), Code.NotFound);
    // A claims service that lies: it names the stranger the owner, or passes their signature off as the owner's.
    await expectCode(
      direct.saveContact({ ownerId: stranger.inboxId, sealed, signature: theirs }, instanceCall(instanceId)),
      Code.PermissionDenied,
    );
    await expectCode(
      direct.saveContact({ ownerId: saul.inboxId, sealed, signature: theirs }, instanceCall(instanceId)),
      Code.PermissionDenied,
    );
    // The owner's own signature, made for another agent.
    const elsewhere = await signOperation(saul.account, "SaveContact", {
      inboxId: saul.inboxId,
      instanceId: "inst_another_agent",
      sealedDigest: sha256(sealed.ciphertext),
    });
    await expectCode(
      direct.saveContact({ ownerId: saul.inboxId, sealed, signature: elsewhere }, instanceCall(instanceId)),
      Code.PermissionDenied,
    );
    expect(held()).toEqual([{ name: "Ana", kind: "address", value: ANA_CHECKSUMMED, via: "chat" }]);
  });
});

describe("the owner's address book through the gateway and the pool CLI", () => {
  let gateway: RunningGateway;
  const out: string[] = [];
  const err: string[] = [];
  const keyFile = () => join(stack.dir, "saul-key.json");
  /** `pool ARGS` as the owner, against the gateway. */
  const cli = async (args: string[]) => {
    out.length = 0;
    err.length = 0;
    const io = { env: {}, cwd: stack.dir, stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) };
    return pool(["--json", "--url", gateway.url, "--key", keyFile(), ...args], io);
  };
  const printed = () => JSON.parse(out.join("")) as Record<string, unknown>;

  beforeAll(async () => {
    gateway = await startGateway({
      templatesUrl: stack.templates!.url,
      claimsUrl: stack.claims!.url,
      credentials: stack.creds.gateway,
      databaseUrl: await createTestDatabase("address_book_e2e_gateway"),
      log: createLogger("gateway", { level: "silent" }),
    });
    // The owner's own key: the Convos CLI's that serves the conversation.
    expect(await cli(["keygen", "--from-convos", join(stack.dir, "cli", "home")]), err.join("")).toBe(0);
  }, 30_000);
  afterAll(async () => {
    await gateway?.close();
  });

  it("address-book save, list and remove, as the owner", { timeout: 60_000 }, async () => {
    expect(await cli(["address-book", "save", instanceId, "Carol", "mail", CAROL_MAIL]), err.join("")).toBe(0);
    const saved = printed();
    expect(saved).toMatchObject({ contact_id: expect.stringMatching(/^ab_[0-9a-f]{12}$/), replaced_id: "" });
    expect(await cli(["address-book", instanceId]), err.join("")).toBe(0);
    const lines = out
      .join("")
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    // Columns: id, name, kind, value, how it was saved, when.
    expect(lines.map((l) => l.slice(1, 5))).toEqual([
      ["Ana", "wallet", ANA_CHECKSUMMED, "chat"],
      ["Carol", "mail", CAROL_MAIL, "signed"],
    ]);
    expect(await cli(["address-book", "save", instanceId, "Carol", "fax", "1"])).toBe(2);
    expect(await cli(["address-book", "save", instanceId, "Carol", "phone", "555 0100"])).toBe(1);
    expect(err.join("")).toContain("contact.value");
    expect(await cli(["address-book", "remove", instanceId, saved.contact_id as string]), err.join("")).toBe(0);
    expect(printed()).toEqual({ removed: 1, not_found: [] });
    expect(held().map((c) => c.name)).toEqual(["Ana"]);
  });

  it("the REST paths name a bad field and keep strangers out", { timeout: 30_000 }, async () => {
    const path = `${gateway.url}/api/pool/agents/${instanceId}/address-book`;
    const key = Buffer.from(x25519KeyPair().publicKey).toString("base64url");
    let res = await fetch(`${path}?recipient_key=not*base64`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("recipient_key");
    res = await fetch(`${path}?recipient_key=${key}&signature=0x`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe("issued_at");
    res = await fetch(`${path}?recipient_key=${key}`);
    expect(res.status).toBe(401);
    res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("sealed");
    res = await fetch(path, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contact_ids: ["ab_000000000000"] }),
    });
    expect(res.status).toBe(401);
  });
});

describe("what the pool sees", () => {
  it("no contact's value is in the pool's databases or logs", { timeout: 60_000 }, async () => {
    const places = {
      node: await databaseText(stack.nodeDatabaseUrl),
      templates: await databaseText(stack.templatesDatabaseUrl),
      claims: await databaseText(stack.claimsDatabaseUrl),
      lineage: await databaseText(stack.lineageDatabaseUrl),
      logs: stack.logs.join("\n"),
    };
    // The searches can find things: the logs hold the calls, by kind.
    expect(places.logs).toContain("contact saved from the conversation");
    expect(places.logs).toContain("contacts listed");
    for (const [where, text] of Object.entries(places)) {
      const lower = text.toLowerCase();
      for (const value of [ANA_WALLET, "+15550187733", "5550187733", CAROL_MAIL])
        expect(lower.includes(value), `${value} in ${where}`).toBe(false);
    }
  });
});
