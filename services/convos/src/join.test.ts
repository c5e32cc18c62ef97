// joinConversation against the real Convos CLI (`convos agent serve`, from
// @xmtp/convos-cli) on the local XMTP node, on a real PostgreSQL.
//
// The CLI's `local` environment is http://localhost:5556 and it has no option
// for another address, so this file runs its devnode on 5556 and takes the
// cross-process port lock first (test files run in parallel processes).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Client } from "@xmtp/node-sdk";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvitePayloadSchema, SignedInviteSchema } from "@convos-pool/gen/convos/app/v1/invite_pb.js";
import { createTestDatabase } from "@convos-pool/kit/testing";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { LOCAL_XMTP_PORT, lockLocalXmtpPort, type PortLock } from "@convos-pool/xmtp-devnode/testing";
import { readAppData, writeAppData } from "./app-data.js";
import { createXmtpClient } from "./client.js";
import { XmtpInboxResolver } from "./identity.js";
import { joinConversation, type JoiningClient } from "./join.js";
import { ConvosCli, type ReadyEvent } from "./testing/convos-cli.js";

type AgentClient = Client<unknown>;
type Group = ReturnType<AgentClient["conversations"]["listGroups"]>[number];

/** One line of `convos agent serve`'s stdout. */

/** Texts as they arrive on a conversation's stream. */
function collect(stream: AsyncIterable<{ content: unknown; senderInboxId: string } | undefined>) {
  const seen: { content: unknown; senderInboxId: string }[] = [];
  const wakers = new Set<() => void>();
  void (async () => {
    for await (const m of stream) {
      if (!m) continue;
      seen.push(m);
      for (const w of wakers) w();
    }
  })();
  return (text: string, ms = 15_000) =>
    new Promise<{ senderInboxId: string }>((resolve, reject) => {
      const check = () => {
        const found = seen.find((m) => m.content === text);
        if (!found) return;
        clearTimeout(timer);
        wakers.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        wakers.delete(check);
        reject(new Error(`the stream did not deliver "${text}" within ${ms} ms`));
      }, ms);
      wakers.add(check);
      check();
    });
}

const code = (err: unknown) => (err instanceof ConnectError ? Code[err.code] : String(err));
const unique = (label: string) => `${label} ${randomBytes(4).toString("hex")}`;

let lock: PortLock | undefined;
let node: RunningDevnode | undefined;
let dir: string;
let cli: ConvosCli | undefined;
let ready: ReadyEvent;
let resolver: XmtpInboxResolver;
let agent: AgentClient;
let joined: Group | undefined;
const streams: { return(value?: undefined): Promise<unknown> }[] = [];
const agents: AgentClient[] = [];

async function newAgent(name: string): Promise<AgentClient> {
  const client = await createXmtpClient(privateKeyToAccount(generatePrivateKey()), {
    apiUrl: node!.url,
    dbPath: join(dir, `${name}-${randomBytes(4).toString("hex")}.db3`),
    dbEncryptionKey: randomBytes(32),
  });
  agents.push(client);
  return client;
}

beforeAll(async () => {
  // A clear error after 30 s when something outside the tests (`npm start`) holds 5556.
  lock = await lockLocalXmtpPort({ timeoutMs: 30_000 });
  dir = await mkdtemp(join(tmpdir(), "convos-join-"));
  node = await startDevnode({ port: LOCAL_XMTP_PORT, databaseUrl: await createTestDatabase("convos_join") });
  cli = await ConvosCli.start(["agent", "serve", "--name", "Join test", "--profile-name", "CLI host"], dir);
  [ready, agent, resolver] = await Promise.all([
    cli.waitFor<ReadyEvent>("ready", (e) => e.event === "ready", { ms: 30_000 }),
    newAgent("agent"),
    XmtpInboxResolver.connect({ apiUrl: node.url, cacheMs: 0 }),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all(streams.map((s) => s.return().catch(() => undefined)));
  await Promise.allSettled(agents.map((a) => a.close()));
  await cli?.stop();
  await node?.close();
  await lock?.release();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

describe("joinConversation with the real Convos CLI", () => {
  it("joins the conversation of `convos agent serve` from its invite link", { timeout: 30_000 }, async () => {
    const { invite, group } = await joinConversation(agent, ready.inviteUrl, { resolver, profileName: "Test Agent", timeoutMs: 20_000 });
    expect(invite.creatorInboxId).toBe(ready.inboxId);
    expect(invite.signer.toLowerCase()).toBe(ready.address.toLowerCase());
    expect(invite.payload.tag).toBe(ready.inviteTag);
    expect(invite.slug).toBe(ready.inviteSlug.replace(/\*/g, ""));
    expect(group.id).toBe(ready.conversationId);
    expect(group.addedByInboxId).toBe(ready.inboxId);
    expect(readAppData(group.appData)?.tag).toBe(ready.inviteTag);

    const member = await cli!.waitFor("member_joined", (e) => e.event === "member_joined" && e.inboxId === agent.inboxId);
    expect(member.conversationId).toBe(ready.conversationId);
    // Our profile_update, read by the CLI's own codec: our name, member kind agent (1).
    const profile = await cli!.waitFor("profile_update", (e) => e.event === "profile_update" && e.senderInboxId === agent.inboxId);
    expect(profile).toMatchObject({ conversationId: ready.conversationId, name: "Test Agent", memberKind: 1 });
    joined = group;
  });

  it("carries a message each way: CLI stdin to our stream, our sendText to the CLI's stdout", { timeout: 30_000 }, async () => {
    if (!joined) throw new Error("needs the conversation joined by the previous test");
    const stream = await joined.stream();
    streams.push(stream);
    const arrived = collect(stream);

    const fromCli = unique("hello from the CLI");
    cli!.command({ type: "send", text: fromCli });
    await cli!.waitFor("sent", (e) => e.event === "sent" && e.text === fromCli);
    expect((await arrived(fromCli)).senderInboxId).toBe(ready.inboxId);

    const fromAgent = unique("hello from the agent");
    await joined.sendText(fromAgent);
    const message = await cli!.waitFor("message", (e) => e.event === "message" && e.content === fromAgent);
    expect(message.senderInboxId).toBe(agent.inboxId);
    expect(message.senderProfile).toMatchObject({ name: "Test Agent" });
    expect(cli!.events.filter((e) => e.event === "error")).toEqual([]);
  });

  it("joining again returns the conversation without asking the creator again", { timeout: 15_000 }, async () => {
    const [dm] = agent.conversations.listDms();
    if (!dm) throw new Error("no DM with the creator");
    await dm.sync();
    const before = await dm.countMessages();
    const { group } = await joinConversation(agent, ready.inviteUrl, { resolver, timeoutMs: 1_000 });
    expect(group.id).toBe(ready.conversationId);
    await dm.sync();
    expect(await dm.countMessages()).toBe(before);
  });

  it("joins by the bare slug, ignoring a look-alike group with the invite's tag that someone else added it to", { timeout: 30_000 }, async () => {
    const [second, mallory] = await Promise.all([newAgent("second"), newAgent("mallory")]);
    const decoy = await mallory.conversations.createGroup([second.inboxId], { appData: writeAppData({ tag: ready.inviteTag }) });
    await second.conversations.sync();
    const seen = second.conversations.listGroups().find((g) => g.id === decoy.id);
    expect(seen && readAppData(seen.appData)?.tag).toBe(ready.inviteTag);

    const { group } = await joinConversation(second, ready.inviteSlug, { resolver, profileName: "Second Agent", timeoutMs: 20_000 });
    expect(group.id).toBe(ready.conversationId);
    expect(group.id).not.toBe(decoy.id);
    await cli!.waitFor("member_joined", (e) => e.event === "member_joined" && e.inboxId === second.inboxId);
    expect(cli!.events.filter((e) => e.event === "error")).toEqual([]);
  });

  it("refuses a garbage invite (INVALID_ARGUMENT) and a tampered one (PERMISSION_DENIED) before anything is sent", async () => {
    const calls: string[] = [];
    const client = recorder(agent.inboxId, calls);
    for (const garbage of ["garbage", "", "https://dev.convos.org/v2?i=bm90IGFuIGludml0ZQ", "https://dev.convos.org/v2"]) {
      const err = await joinConversation(client, garbage, { resolver }).catch((e: unknown) => e);
      expect(code(err), garbage).toBe("InvalidArgument");
      expect((err as ConnectError).message).toContain("conversation_invite");
    }

    // The CLI's invite with another tag and the creator's signature kept: it no longer recovers to the creator's wallet.
    let bytes = Buffer.from(ready.inviteSlug.replace(/\*/g, ""), "base64url");
    if (bytes[0] === 0x1f) bytes = inflateSync(bytes.subarray(5));
    const signed = fromBinary(SignedInviteSchema, bytes);
    const payload = fromBinary(InvitePayloadSchema, signed.payload);
    const tampered = toBinary(
      SignedInviteSchema,
      create(SignedInviteSchema, {
        payload: toBinary(InvitePayloadSchema, create(InvitePayloadSchema, { ...payload, tag: "s0mething3lse" })),
        signature: signed.signature,
      }),
    );
    const err = await joinConversation(client, Buffer.from(tampered).toString("base64url"), { resolver }).catch((e: unknown) => e);
    expect(code(err)).toBe("PermissionDenied");
    expect(calls).toEqual([]);
  });

  it("does not send a join request to itself: its own invite for a conversation it is not in is refused", async () => {
    const calls: string[] = [];
    const err = await joinConversation(recorder(ready.inboxId, calls), ready.inviteUrl, { resolver }).catch((e: unknown) => e);
    expect(code(err)).toBe("InvalidArgument");
    expect(calls).not.toContain("createDm");
  });
});

/** A client that records what joinConversation asks of it, is in no group, and cannot send. */
function recorder(inboxId: string, calls: string[]): JoiningClient {
  return {
    inboxId,
    conversations: {
      createDm: async () => {
        calls.push("createDm");
        throw new Error("must not be called");
      },
      sync: async () => calls.push("sync"),
      listGroups: () => (calls.push("listGroups"), []),
    },
  };
}
