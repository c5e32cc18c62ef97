// The real @xmtp/node-sdk (6) against the devnode on a real PostgreSQL:
// registration, a group, messages both ways, a stream, a DM, a second
// installation, identity changes, a restart of the node in the middle, and
// no plaintext in what the node stores.
//
// node-sdk 6 honours `apiUrl` everywhere (and a `createBackend` backend for
// the static helpers), so the node listens on a free port of its own and
// this file needs no lock on 5556: it runs in parallel with everything else.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import {
  Client,
  createBackend,
  generateInboxId,
  type ClientOptions,
  type Identifier,
  type Signer,
} from "@xmtp/node-sdk";
import { toBytes } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { startDevnode, type RunningDevnode } from "./server.js";

type AnyClient = Awaited<ReturnType<typeof Client.create>>;
type Conversation = NonNullable<Awaited<ReturnType<AnyClient["conversations"]["getConversationById"]>>>;

let node: RunningDevnode;
let databaseUrl: string;
let dir: string;
const streams: { end(): Promise<unknown> }[] = [];
const clients: AnyClient[] = [];
/** Every text sent in this file: none may appear in the node's tables. */
const sentTexts: string[] = [];

interface Person {
  signer: Signer;
  identifier: Identifier;
}

function person(): Person {
  const account = privateKeyToAccount(generatePrivateKey());
  // IdentifierKind.Ethereum: a const enum of the bindings, which isolated
  // modules cannot inline (and the binding's runtime export of it is `{}`).
  const identifier: Identifier = { identifier: account.address.toLowerCase(), identifierKind: 0 };
  return {
    identifier,
    signer: {
      type: "EOA",
      getIdentifier: () => identifier,
      signMessage: async (message: string) => toBytes(await account.signMessage({ message })),
    },
  };
}

/** A new installation of `p`: its own local database (temporary) and encryption key. */
async function install(p: Person): Promise<AnyClient> {
  // Typed as ClientOptions first: `Client.create`'s parameter is
  // `Omit<ClientOptions, "codecs">`, and Omit over ClientOptions' union
  // (network options | { backend }) keeps only the common keys, so an object
  // literal with `env` or `apiUrl` does not type-check there.
  const options: ClientOptions = {
    env: "local",
    apiUrl: node.url,
    dbPath: join(dir, `${randomBytes(6).toString("hex")}.db3`),
    dbEncryptionKey: randomBytes(32),
    disableDeviceSync: true,
  };
  const client = await Client.create(p.signer, options);
  clients.push(client);
  return client;
}

function text(label: string): string {
  const t = `${label} ${randomBytes(6).toString("hex")}`;
  sentTexts.push(t);
  return t;
}

/** Polls `check` until it holds; each poll may sync with the node, so not too often. */
const eventually = (what: string, check: () => boolean | Promise<boolean>, ms = 15_000) =>
  waitFor(what, check, ms, 100);

async function textsOf(conversation: Conversation): Promise<string[]> {
  await conversation.sync();
  return (await conversation.messages()).map((m) => m.content).filter((c): c is string => typeof c === "string");
}

/** Syncs `client` until it has the conversation `id`. */
async function conversationOf(client: AnyClient, id: string): Promise<Conversation> {
  let found: Conversation | undefined;
  await eventually(`conversation ${id} reaches ${client.inboxId}`, async () => {
    await client.conversations.sync();
    found = await client.conversations.getConversationById(id);
    return found !== undefined;
  });
  return found!;
}

/**
 * A message stream that records texts as they arrive. When the node goes
 * away the SDK restarts the stream (after `retryDelay`): it syncs first, then
 * subscribes from where the sync ended, so messages that arrived meanwhile
 * come through the sync (the local database), not through the stream.
 */
async function record(conversation: Conversation) {
  const received: string[] = [];
  const errors: Error[] = [];
  const state = { received, errors, restarts: 0 };
  const stream = await conversation.stream({
    retryDelay: 100,
    retryAttempts: 100,
    onError: (e) => errors.push(e),
    onRestart: () => state.restarts++,
  });
  streams.push(stream);
  void (async () => {
    for await (const m of stream) if (typeof m?.content === "string") received.push(m.content);
  })();
  return state;
}

beforeAll(async () => {
  databaseUrl = await createTestDatabase("xmtp_devnode_sdk");
  node = await startDevnode({ port: 0, databaseUrl });
  dir = await mkdtemp(join(tmpdir(), "xmtp-devnode-sdk-"));
});

afterAll(async () => {
  await Promise.allSettled(streams.map((s) => s.end()));
  await Promise.allSettled(clients.map((c) => c.close()));
  await node?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("@xmtp/node-sdk 6 against the devnode on a port of its own", () => {
  const alice = person();
  const bob = person();
  let a: AnyClient;
  let b: AnyClient;
  let b2: AnyClient;
  let aliceGroup: Conversation;
  let bobGroup: Conversation;
  let bobStream: Awaited<ReturnType<typeof record>>;

  it("registers two clients", async () => {
    a = await install(alice);
    b = await install(bob);
    expect(a.inboxId).toBe(generateInboxId(alice.identifier));
    expect(b.inboxId).toBe(generateInboxId(bob.identifier));
    // The node now resolves each address to its inbox.
    expect(node.port).not.toBe(5556);
    expect(await a.fetchInboxIdByIdentifier(bob.identifier)).toBe(b.inboxId);
    // The static helpers take a backend pointed at the node.
    const backend = await createBackend({ env: "local", apiUrl: node.url });
    const stranger = person();
    const can = await Client.canMessage([alice.identifier, bob.identifier, stranger.identifier], backend);
    expect(can.get(bob.identifier.identifier)).toBe(true);
    expect(can.get(stranger.identifier.identifier)).toBe(false);
  });

  it("creates a two-member group; messages go both ways; one side receives by stream", async () => {
    aliceGroup = await a.conversations.createGroup([b.inboxId]);
    bobGroup = await conversationOf(b, aliceGroup.id);
    bobStream = await record(bobGroup);

    const hello = text("hello bob");
    await aliceGroup.sendText(hello);
    await eventually("bob's stream gets alice's message", () => bobStream.received.includes(hello));

    const reply = text("hi alice");
    await bobGroup.sendText(reply);
    await eventually("alice syncs", async () => (await textsOf(aliceGroup)).includes(reply));
    expect(await textsOf(aliceGroup)).toContain(reply);
    expect(await textsOf(bobGroup)).toEqual([hello, reply]);
  });

  it("a DM", async () => {
    const dm = await b.conversations.createDm(a.inboxId);
    const note = text("a direct note");
    await dm.sendText(note);
    const aliceDm = await conversationOf(a, dm.id);
    await eventually("alice reads the DM", async () => (await textsOf(aliceDm)).includes(note));
    expect(await textsOf(aliceDm)).toContain(note);
    const back = text("a direct answer");
    await aliceDm.sendText(back);
    await eventually("bob reads the answer", async () => (await textsOf(dm)).includes(back));
    expect(await textsOf(dm)).toContain(back);
  });

  it("a second installation of an inbox receives too, and hears of the new group by stream", async () => {
    b2 = await install(bob);
    expect(b2.inboxId).toBe(b.inboxId);
    expect(b2.installationId).not.toBe(b.installationId);
    expect((await b2.preferences.inboxState()).installations).toHaveLength(2);
    // Welcomes stream to the new installation (SubscribeWelcomeMessages).
    const newConversations: string[] = [];
    const conversationStream = await b2.conversations.stream({ retryDelay: 100 });
    streams.push(conversationStream);
    void (async () => {
      for await (const c of conversationStream) if (c) newConversations.push(c.id);
    })();

    // A group created now includes both of bob's installations.
    const group = await a.conversations.createGroup([b.inboxId]);
    await eventually("the welcome streams to b2", () => newConversations.includes(group.id));
    const forBoth = text("to every installation of bob");
    await group.sendText(forBoth);
    for (const installation of [b, b2]) {
      const g = await conversationOf(installation, group.id);
      await eventually("installation reads", async () => (await textsOf(g)).includes(forBoth));
      expect(await textsOf(g)).toContain(forBoth);
    }
  });

  it("follows identity changes: an address added later, then removed; a revoked installation", async () => {
    const wallet = person();
    expect(await a.fetchInboxIdByIdentifier(wallet.identifier)).toBeNull();
    // (The SDK insists on allowInboxReassign even for a wallet that has no inbox yet.)
    await b.unsafe_addAccount(wallet.signer, true);
    expect(await a.fetchInboxIdByIdentifier(wallet.identifier)).toBe(b.inboxId);
    expect((await b.preferences.fetchInboxState()).identifiers.map((i) => i.identifier).sort()).toEqual(
      [bob.identifier.identifier, wallet.identifier.identifier].sort(),
    );
    await b.removeAccount(wallet.identifier);
    expect(await a.fetchInboxIdByIdentifier(wallet.identifier)).toBeNull();
    expect(await a.fetchInboxIdByIdentifier(bob.identifier)).toBe(b.inboxId);

    await b.revokeInstallations([b2.installationIdBytes]);
    const state = await b.preferences.fetchInboxState();
    expect(state.installations.map((i) => i.id)).toEqual([b.installationId]);
  });

  it("survives a restart of the node in the middle of the conversation", { timeout: 60_000 }, async () => {
    const before = text("before the restart");
    await aliceGroup.sendText(before);
    await eventually("stream before restart", () => bobStream.received.includes(before));

    await node.close();
    // Same port: the clients' backends keep its URL.
    node = await startDevnode({ port: node.port, databaseUrl });

    // Send and sync work on the restarted node, with everything from before.
    const after = text("after the restart");
    await aliceGroup.sendText(after);
    await eventually("bob syncs", async () => (await textsOf(bobGroup)).includes(after));
    expect(await textsOf(bobGroup)).toContain(after);
    const answer = text("answer after the restart");
    await bobGroup.sendText(answer);
    await eventually("alice syncs", async () => (await textsOf(aliceGroup)).includes(answer));
    expect(await textsOf(aliceGroup)).toContain(answer);
    // Bob's stream was cut by the shutdown and resumed on the new node.
    await eventually("bob's stream restarts", () => bobStream.restarts > 0);
    const live = text("live after the restart");
    await aliceGroup.sendText(live);
    await eventually("bob's stream resumes", () => bobStream.received.includes(live), 30_000);
    // A new client registers on the restarted node and reaches both.
    const carol = await install(person());
    const trio = await carol.conversations.createGroup([a.inboxId, b.inboxId]);
    const hi = text("carol joins");
    await trio.sendText(hi);
    const aliceTrio = await conversationOf(a, trio.id);
    await eventually("alice reads carol", async () => (await textsOf(aliceTrio)).includes(hi));
    expect(await textsOf(aliceTrio)).toContain(hi);
  });

  it("stores no plaintext: no sent text appears in any table", async () => {
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const { rows: tables } = await db.query(
        "select table_name from information_schema.tables where table_schema = 'public' and table_name <> 'mikro_orm_migrations'",
      );
      expect(tables.map((t: { table_name: string }) => t.table_name).sort()).toEqual([
        "address_log",
        "commit_log",
        "group_messages",
        "identity_updates",
        "key_packages",
        "welcome_messages",
      ]);
      const { rows: counts } = await db.query("select count(*)::int as n from group_messages");
      expect((counts[0] as { n: number }).n).toBeGreaterThan(10);
      expect(sentTexts.length).toBeGreaterThan(8);
      let bytesSearched = 0;
      for (const { table_name } of tables as { table_name: string }[]) {
        const { rows } = await db.query(`select * from ${table_name}`);
        for (const row of rows as Record<string, unknown>[]) {
          for (const value of Object.values(row)) {
            const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
            bytesSearched += bytes.length;
            for (const t of sentTexts) {
              expect(bytes.includes(Buffer.from(t)), `"${t}" found in ${table_name}`).toBe(false);
              // Also not the random part alone (in case of a different framing of the text).
              expect(bytes.includes(Buffer.from(t.slice(-12))), `"${t}" found in ${table_name}`).toBe(false);
            }
          }
        }
      }
      expect(bytesSearched).toBeGreaterThan(10_000);
    } finally {
      await db.end();
    }
  });
});
