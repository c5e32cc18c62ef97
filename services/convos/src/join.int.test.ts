// joinConversation against the real Convos CLI (`convos agent serve`, from
// @xmtp/convos-cli) on the local XMTP node, on a real PostgreSQL.
//
// The CLI's `local` environment is http://localhost:5556 and it has no option
// for another address: it reaches this file's devnode, on a port of its own,
// through its bridge (@convos-pool/testing/xmtp-port).
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Client } from "@xmtp/node-sdk";
import { toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount, sign } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvitePayloadSchema, SignedInviteSchema } from "@convos-pool/gen/convos/app/v1/invite_pb.js";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { xmtpPortForTest, type XmtpPort } from "@convos-pool/testing/xmtp-port";
import { readAppData, writeAppData } from "./app-data.js";
import { createXmtpClient } from "./client.js";
import { XmtpInboxResolver } from "./identity.js";
import { joinConversation, type GroupStream, type JoiningClient } from "./join.js";
import { ConvosCli, type ReadyEvent } from "@convos-pool/testing/convos-cli";

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

let xmtp: XmtpPort | undefined;
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

/** The real client, with its syncs and its group streams' ends counted; `silentStream` gives it a stream that never delivers. */
function counted(client: AgentClient, opts: { silentStream?: boolean } = {}) {
  const counts = { syncs: 0, streams: 0, ended: 0 };
  const conversations = client.conversations;
  const wrapped: JoiningClient<Group> = {
    inboxId: client.inboxId,
    conversations: {
      createDm: (inboxId) => conversations.createDm(inboxId),
      sync: () => {
        counts.syncs++;
        return conversations.sync();
      },
      listGroups: () => conversations.listGroups(),
      streamGroups: async (options): Promise<GroupStream<Group>> => {
        counts.streams++;
        const real = await conversations.streamGroups(options);
        const end = () => {
          counts.ended++;
          return real.end();
        };
        if (!opts.silentStream) return { end, [Symbol.asyncIterator]: () => real[Symbol.asyncIterator]() };
        return { end, [Symbol.asyncIterator]: async function* () {} };
      },
    },
  };
  return { client: wrapped, counts };
}

/** An invite to a group of a creator that never reads its DMs: nobody adds the joiner. */
async function silentInvite(): Promise<{ invite: string; creator: AgentClient }> {
  const key = generatePrivateKey();
  const creator = await createXmtpClient(privateKeyToAccount(key), {
    apiUrl: node!.url,
    dbPath: join(dir, `silent-${randomBytes(4).toString("hex")}.db3`),
    dbEncryptionKey: randomBytes(32),
  });
  agents.push(creator);
  const tag = randomBytes(5).toString("hex");
  await creator.conversations.createGroup([], { appData: writeAppData({ tag }) });
  const payload = toBinary(
    InvitePayloadSchema,
    create(InvitePayloadSchema, {
      conversationToken: randomBytes(40),
      creatorInboxId: Buffer.from(creator.inboxId, "hex"),
      tag,
      name: "Silent",
    }),
  );
  const sig = await sign({ hash: toHex(createHash("sha256").update(payload).digest()), privateKey: key });
  const signature = Buffer.concat([
    Buffer.from(sig.r.slice(2), "hex"),
    Buffer.from(sig.s.slice(2), "hex"),
    Buffer.from([sig.yParity ?? 0]),
  ]);
  const invite = Buffer.from(toBinary(SignedInviteSchema, create(SignedInviteSchema, { payload, signature }))).toString(
    "base64url",
  );
  return { invite, creator };
}

beforeAll(async () => {
  // A clear error after 30 s when something outside the tests (`npm start`) holds 5556.
  xmtp = await xmtpPortForTest({ timeoutMs: 30_000 });
  dir = await mkdtemp(join(tmpdir(), "convos-join-"));
  node = await startDevnode({ port: xmtp.port, databaseUrl: await createTestDatabase("convos_join") });
  cli = await ConvosCli.start(["agent", "serve", "--name", "Join test", "--profile-name", "CLI host"], dir, {
    xmtpPort: xmtp.port,
  });
  [ready, agent, resolver] = await Promise.all([
    cli.ready(),
    newAgent("agent"),
    XmtpInboxResolver.connect({ apiUrl: node.url, cacheMs: 0 }),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all(streams.map((s) => s.return().catch(() => undefined)));
  await Promise.allSettled(agents.map((a) => a.close()));
  await cli?.stop();
  await node?.close();
  await xmtp?.release();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

describe("joinConversation with the real Convos CLI", () => {
  it("joins the conversation of `convos agent serve` from its invite link", { timeout: 30_000 }, async () => {
    const { invite, group } = await joinConversation(agent, ready.inviteUrl, {
      resolver,
      profileName: "Test Agent",
      timeoutMs: 20_000,
    });
    expect(invite.creatorInboxId).toBe(ready.inboxId);
    expect(invite.signer.toLowerCase()).toBe(ready.address.toLowerCase());
    expect(invite.payload.tag).toBe(ready.inviteTag);
    expect(invite.slug).toBe(ready.inviteSlug.replace(/\*/g, ""));
    expect(group.id).toBe(ready.conversationId);
    expect(group.addedByInboxId).toBe(ready.inboxId);
    expect(readAppData(group.appData)?.tag).toBe(ready.inviteTag);

    const member = await cli!.waitFor(
      "member_joined",
      (e) => e.event === "member_joined" && e.inboxId === agent.inboxId,
    );
    expect(member.conversationId).toBe(ready.conversationId);
    // Our profile_update, read by the CLI's own codec: our name, member kind agent (1).
    const profile = await cli!.waitFor(
      "profile_update",
      (e) => e.event === "profile_update" && e.senderInboxId === agent.inboxId,
    );
    expect(profile).toMatchObject({ conversationId: ready.conversationId, name: "Test Agent", memberKind: 1 });
    joined = group;
  });

  it("carries a message each way: CLI stdin to our stream, our sendText to the CLI's stdout", {
    timeout: 30_000,
  }, async () => {
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

  it("joins by the bare slug, ignoring a look-alike group with the invite's tag that someone else added it to", {
    timeout: 30_000,
  }, async () => {
    const [second, mallory] = await Promise.all([newAgent("second"), newAgent("mallory")]);
    const decoy = await mallory.conversations.createGroup([second.inboxId], {
      appData: writeAppData({ tag: ready.inviteTag }),
    });
    await second.conversations.sync();
    const seen = second.conversations.listGroups().find((g) => g.id === decoy.id);
    expect(seen && readAppData(seen.appData)?.tag).toBe(ready.inviteTag);

    const { group } = await joinConversation(second, ready.inviteSlug, {
      resolver,
      profileName: "Second Agent",
      timeoutMs: 20_000,
    });
    expect(group.id).toBe(ready.conversationId);
    expect(group.id).not.toBe(decoy.id);
    await cli!.waitFor("member_joined", (e) => e.event === "member_joined" && e.inboxId === second.inboxId);
    expect(cli!.events.filter((e) => e.event === "error")).toEqual([]);
  });

  // The SDK's welcome stream now and then yields nothing for a welcome the
  // node did write to its subscription (1 join in 40 here, traced on the
  // devnode's side): what the fallback sync is for. So up to three agents
  // try, each with no fallback sync in time; one must learn from the stream.
  it("learns it was added from the welcome stream: one sync after subscribing, no polling, and the stream ended", {
    timeout: 60_000,
  }, async () => {
    const missed: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { client, counts } = counted(await newAgent(`streamed-${attempt}`));
      const started = Date.now();
      const joined = await joinConversation(client, ready.inviteUrl, {
        resolver,
        profileName: "Streamed Agent",
        timeoutMs: 10_000,
        fallbackSyncMs: 60_000,
      }).catch((err: unknown) => {
        if (code(err) !== "DeadlineExceeded") throw err;
        missed.push((err as ConnectError).rawMessage);
        expect(counts, "the stream ended after a miss too").toEqual({ syncs: 1, streams: 1, ended: 1 });
        return undefined;
      });
      if (!joined) continue;
      expect(joined.group.id).toBe(ready.conversationId);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(counts).toEqual({ syncs: 1, streams: 1, ended: 1 });
      return;
    }
    expect.fail(`three agents in a row did not learn from the stream that they were added: ${missed.join("; ")}`);
  });

  it("finds the group by its fallback sync when the stream delivers nothing", { timeout: 30_000 }, async () => {
    const { client, counts } = counted(await newAgent("fallback"), { silentStream: true });
    const { group } = await joinConversation(client, ready.inviteUrl, {
      resolver,
      profileName: "Fallback Agent",
      timeoutMs: 20_000,
      fallbackSyncMs: 300,
    });
    expect(group.id).toBe(ready.conversationId);
    expect(counts.syncs).toBeGreaterThan(1);
    expect(counts.ended).toBe(1);
  });

  it("DEADLINE_EXCEEDED when the creator does not add it, and the stream ended", { timeout: 30_000 }, async () => {
    const { invite } = await silentInvite();
    const { client, counts } = counted(await newAgent("unanswered"));
    const err = await joinConversation(client, invite, { resolver, timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(code(err)).toBe("DeadlineExceeded");
    expect((err as ConnectError).message).toContain("conversation_invite");
    expect(counts.ended).toBe(1);
  });

  it("stops waiting when aborted, and the stream ended", { timeout: 30_000 }, async () => {
    const { invite, creator } = await silentInvite();
    const { client, counts } = counted(await newAgent("aborted"));
    const abort = new AbortController();
    const reason = new Error("the claim gave up");
    const joining = joinConversation(client, invite, { resolver, timeoutMs: 20_000, signal: abort.signal }).catch(
      (e: unknown) => e,
    );
    // Aborted while it waits to be added: once its request (the invite's slug, a text) reached the creator.
    await waitFor(
      "the join request at the creator",
      async () => {
        await creator.conversations.sync();
        const [dm] = creator.conversations.listDms();
        if (!dm) return false;
        await dm.sync();
        return (await dm.messages()).some((m) => typeof m.content === "string");
      },
      15_000,
      100,
    );
    abort.abort(reason);
    const err = await joining;
    expect(err).toBe(reason);
    expect(counts.ended).toBe(1);
  });

  it("refuses a garbage invite (INVALID_ARGUMENT) and a tampered one (PERMISSION_DENIED) before anything is sent", async () => {
    const calls: string[] = [];
    const client = recorder(agent.inboxId, calls);
    for (const garbage of [
      "garbage",
      "",
      "https://dev.convos.org/v2?i=bm90IGFuIGludml0ZQ",
      "https://dev.convos.org/v2",
    ]) {
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
    const err = await joinConversation(client, Buffer.from(tampered).toString("base64url"), { resolver }).catch(
      (e: unknown) => e,
    );
    expect(code(err)).toBe("PermissionDenied");
    expect(calls).toEqual([]);
  });

  it("does not send a join request to itself: its own invite for a conversation it is not in is refused, and the stream ended", async () => {
    const calls: string[] = [];
    const err = await joinConversation(recorder(ready.inboxId, calls), ready.inviteUrl, { resolver }).catch(
      (e: unknown) => e,
    );
    expect(code(err)).toBe("InvalidArgument");
    expect(calls).not.toContain("createDm");
    expect(calls.filter((c) => c === "streamGroups" || c === "end")).toEqual(["streamGroups", "end"]);
  });
});

/** A client that records what joinConversation asks of it, is in no group, streams none, and cannot send. */
function recorder(inboxId: string, calls: string[]): JoiningClient {
  return {
    inboxId,
    conversations: {
      createDm: async () => {
        calls.push("createDm");
        throw new Error("must not be called");
      },
      sync: async () => calls.push("sync"),
      listGroups: () => {
        calls.push("listGroups");
        return [];
      },
      streamGroups: async () => {
        calls.push("streamGroups");
        return { end: async () => calls.push("end"), [Symbol.asyncIterator]: async function* () {} };
      },
    },
  };
}

describe("the harness's ConvosCli.ready", () => {
  it("resolves once the CLI's streams run, without waiting for its first heartbeat, and the CLI reports no error", {
    timeout: 60_000,
  }, async () => {
    // A heartbeat every 10 s: the first comes 10 s after the streams started. The CLI reads stdin only once they
    // have, so its answer to a line there says the same at once.
    const slow = await ConvosCli.start(
      ["agent", "serve", "--name", "Ready test", "--profile-name", "CLI host", "--heartbeat", "10"],
      join(dir, "ready"),
      { xmtpPort: xmtp!.port },
    );
    try {
      await slow.waitFor("ready", (e) => e.event === "ready", { ms: 30_000 });
      const since = Date.now();
      const seen = await slow.ready();
      expect(Date.now() - since, "ready() after the CLI's ready event, ms").toBeLessThan(8_000);
      expect(seen.conversationId).toBeTruthy();
      // It listens: a join request now is answered (this file's first test, on this CLI).
      const { group } = await joinConversation(agent, seen.inviteUrl, { resolver, timeoutMs: 20_000 });
      expect(group.id).toBe(seen.conversationId);
      expect(slow.events.filter((e) => e.event === "error")).toEqual([]);
    } finally {
      await slow.stop();
    }
  });
});
