// The node's protocol behaviour through a plain gRPC client, on a real
// PostgreSQL: identity updates (exact bytes, address map, structural checks),
// paging, idempotent sends, key packages, the commit log, subscriptions
// (replay from the cursor, then live, no gap, no duplicate), shutdown.
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { associations, identityApi, mls, toBigInt } from "./proto.js";
import { startDevnode, type RunningDevnode } from "./server.js";
import {
  addAddressUpdate,
  addInstallationUpdate,
  createInboxUpdate,
  encodeIdentityUpdate,
  mlsKeyPackage,
  mlsPrivateMessage,
  revokeAddressUpdate,
} from "../test/fixtures.js";
import { WireWriter } from "./wire.js";
import { plainClient, serverStream, unaryCall } from "../test/grpc.js";

const MLS = "/xmtp.mls.api.v1.MlsApi";
const ID = "/xmtp.identity.api.v1.IdentityApi";

let node: RunningDevnode;
let databaseUrl: string;
let client: grpc.Client;
const logLines: string[] = [];
const log = createLogger("xmtp-devnode", { level: "warn", sink: (line) => logLines.push(line) });

const call = (path: string, request: Uint8Array) => unaryCall(client, path, request);

async function rpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error("expected the call to fail");
}

function publishRequest(updateBytes: Uint8Array): Buffer {
  return new WireWriter().bytes(1, updateBytes).finish();
}

async function inboxIdOf(address: string): Promise<string | undefined> {
  const res = identityApi.GetInboxIdsResponse.decode(
    await call(
      `${ID}/GetInboxIds`,
      identityApi.GetInboxIdsRequest.encode({ requests: [{ identifier: address, identifierKind: 1 }] }).finish(),
    ),
  );
  return res.responses[0]?.inboxId;
}

/** The raw IdentityUpdate bytes of each log entry, by hand-decoding the response's wire format. */
async function identityUpdateLog(inboxId: string, after = 0n): Promise<{ sequenceId: bigint; bytes: Buffer }[]> {
  const res = await call(
    `${ID}/GetIdentityUpdates`,
    identityApi.GetIdentityUpdatesRequest.encode(
      identityApi.GetIdentityUpdatesRequest.fromPartial({ requests: [{ inboxId, sequenceId: after.toString() }] }),
    ).finish(),
  );
  const { readFields } = await import("./wire.js");
  const out: { sequenceId: bigint; bytes: Buffer }[] = [];
  for (const response of readFields(res).filter((f) => f.field === 1)) {
    for (const log of readFields(response.bytes!).filter((f) => f.field === 2)) {
      const fields = readFields(log.bytes!);
      out.push({
        sequenceId: fields.find((f) => f.field === 1)?.varint ?? 0n,
        bytes: Buffer.from(fields.find((f) => f.field === 3)!.bytes!),
      });
    }
  }
  return out;
}

async function sendGroupMessages(datas: Uint8Array[]): Promise<void> {
  await call(
    `${MLS}/SendGroupMessages`,
    mls.SendGroupMessagesRequest.encode(
      mls.SendGroupMessagesRequest.fromPartial({
        messages: datas.map((data) => ({ v1: { data, senderHmac: Buffer.from("hmac") } })),
      }),
    ).finish(),
  );
}

async function queryGroup(groupId: Uint8Array, paging?: { direction?: number; limit?: number; idCursor?: bigint }) {
  return mls.QueryGroupMessagesResponse.decode(
    await call(
      `${MLS}/QueryGroupMessages`,
      mls.QueryGroupMessagesRequest.encode(
        mls.QueryGroupMessagesRequest.fromPartial({
          groupId,
          pagingInfo: paging
            ? {
                direction: paging.direction ?? 0,
                limit: paging.limit ?? 0,
                idCursor: (paging.idCursor ?? 0n).toString(),
              }
            : undefined,
        }),
      ).finish(),
    ),
  );
}

/** A server stream collecting decoded messages. */
const subscribe = <T>(path: string, request: Uint8Array, decode: (b: Buffer) => T) =>
  serverStream(client, path, request, decode);

beforeAll(async () => {
  databaseUrl = await createTestDatabase("xmtp_devnode_protocol");
  node = await startDevnode({ port: 0, databaseUrl, log });
  client = plainClient(node.url);
});

afterAll(async () => {
  client?.close();
  await node?.close();
});

describe("identity", () => {
  it("stores identity updates as the exact bytes received and maps addresses to inboxes", async () => {
    const address = privateKeyToAccount(generatePrivateKey()).address;
    const update = createInboxUpdate(address);
    // Non-canonical but valid encoding: an unknown field and the fields in reverse order.
    const canonical = encodeIdentityUpdate(update);
    const unknownField = new WireWriter().bytes(99, Buffer.from("kept as is")).finish();
    const odd = Buffer.concat([unknownField, canonical]);
    expect(
      Buffer.from(associations.IdentityUpdate.encode(associations.IdentityUpdate.decode(odd)).finish()).equals(odd),
    ).toBe(false);

    expect(await inboxIdOf(address)).toBeUndefined();
    await call(`${ID}/PublishIdentityUpdate`, publishRequest(odd));
    const log = await identityUpdateLog(update.inboxId);
    expect(log).toHaveLength(1);
    expect(log[0]!.bytes.equals(odd)).toBe(true);
    // Addresses resolve whatever their case.
    expect(await inboxIdOf(address)).toBe(update.inboxId);
    expect(await inboxIdOf(address.toLowerCase())).toBe(update.inboxId);
    expect(await inboxIdOf(address.toUpperCase().replace("0X", "0x"))).toBe(update.inboxId);

    // A later address, then its revocation.
    const second = privateKeyToAccount(generatePrivateKey()).address;
    await call(
      `${ID}/PublishIdentityUpdate`,
      publishRequest(encodeIdentityUpdate(addAddressUpdate(update.inboxId, second))),
    );
    expect(await inboxIdOf(second)).toBe(update.inboxId);
    await call(
      `${ID}/PublishIdentityUpdate`,
      publishRequest(encodeIdentityUpdate(revokeAddressUpdate(update.inboxId, second))),
    );
    expect(await inboxIdOf(second)).toBeUndefined();
    expect(await inboxIdOf(address)).toBe(update.inboxId);

    // Installations join the log but not the address map.
    await call(
      `${ID}/PublishIdentityUpdate`,
      publishRequest(encodeIdentityUpdate(addInstallationUpdate(update.inboxId, randomBytes(32)))),
    );
    const all = await identityUpdateLog(update.inboxId);
    expect(all).toHaveLength(4);
    expect(all.map((e) => e.sequenceId)).toEqual([...all.map((e) => e.sequenceId)].sort((a, b) => (a < b ? -1 : 1)));
    // The cursor is exclusive.
    expect((await identityUpdateLog(update.inboxId, all[1]!.sequenceId)).map((e) => e.sequenceId)).toEqual(
      all.slice(2).map((e) => e.sequenceId),
    );
  });

  it("rejects structurally invalid identity updates with INVALID_ARGUMENT", async () => {
    const address = privateKeyToAccount(generatePrivateKey()).address;
    const good = createInboxUpdate(address);
    const variants: [string, Uint8Array][] = [
      ["not protobuf", Buffer.from([0x0a, 0x05, 1])],
      ["no update", Buffer.alloc(0)],
      ["garbage update", publishRequest(Buffer.from([0xff, 0xff, 0xff]))],
      ["no actions", publishRequest(encodeIdentityUpdate({ ...good, actions: [] }))],
      ["bad inbox id", publishRequest(encodeIdentityUpdate({ ...good, inboxId: "not-hex" }))],
      [
        "inbox id not derived from the address",
        publishRequest(encodeIdentityUpdate({ ...good, inboxId: "ab".repeat(32) })),
      ],
      ["an empty action", publishRequest(encodeIdentityUpdate({ ...good, actions: [{}] }))],
      [
        "create without signature",
        publishRequest(
          encodeIdentityUpdate({
            ...good,
            actions: [{ createInbox: { ...good.actions[0]!.createInbox!, initialIdentifierSignature: undefined } }],
          }),
        ),
      ],
      [
        "an update to an inbox that does not exist",
        publishRequest(encodeIdentityUpdate(addAddressUpdate(good.inboxId, address))),
      ],
    ];
    for (const [what, bytes] of variants) {
      const err = await rpcError(call(`${ID}/PublishIdentityUpdate`, bytes));
      expect(err.code, what).toBe(grpc.status.INVALID_ARGUMENT);
    }
    expect(await identityUpdateLog(good.inboxId)).toHaveLength(0);
    await call(`${ID}/PublishIdentityUpdate`, publishRequest(encodeIdentityUpdate(good)));
    const again = await rpcError(call(`${ID}/PublishIdentityUpdate`, publishRequest(encodeIdentityUpdate(good))));
    expect(again.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(again.details).toMatch(/already exists/);
  });
});

describe("group messages", () => {
  it("pages by id both ways with exclusive cursors, and ignores a resent message", async () => {
    const groupId = randomBytes(16);
    const other = randomBytes(16);
    const datas = Array.from({ length: 130 }, (_, i) =>
      mlsPrivateMessage(groupId, { ciphertext: Buffer.from(`m${i}`) }),
    );
    for (let i = 0; i < datas.length; i += 13) await sendGroupMessages(datas.slice(i, i + 13));
    await sendGroupMessages([
      mlsPrivateMessage(other),
      mlsPrivateMessage(groupId, { contentType: 3, ciphertext: Buffer.from("commit") }),
    ]);
    await sendGroupMessages([datas[0]!]); // a retry: stored once

    const first = await queryGroup(groupId); // defaults: newest first, 100
    expect(first.messages).toHaveLength(100);
    expect(first.pagingInfo!.direction).toBe(2);
    expect(first.pagingInfo!.limit).toBe(100);
    const ids = first.messages.map((m) => toBigInt(m.v1!.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? 1 : -1)));
    expect(toBigInt(first.pagingInfo!.idCursor)).toBe(ids[99]);
    expect(first.messages[0]!.v1!.isCommit).toBe(true);
    expect(first.messages[1]!.v1!.isCommit).toBe(false);
    expect(Buffer.from(first.messages[0]!.v1!.groupId).equals(groupId)).toBe(true);
    expect(Buffer.from(first.messages[1]!.v1!.senderHmac).toString()).toBe("hmac");

    const rest = await queryGroup(groupId, { direction: 2, idCursor: toBigInt(first.pagingInfo!.idCursor) });
    expect(rest.messages).toHaveLength(31);
    expect(toBigInt(rest.pagingInfo!.idCursor)).toBe(0n);
    const allDesc = [...ids, ...rest.messages.map((m) => toBigInt(m.v1!.id))];

    // Ascending in pages of 7 visits the same ids, oldest first, each once.
    const asc: bigint[] = [];
    let cursor = 0n;
    for (;;) {
      const page = await queryGroup(groupId, { direction: 1, limit: 7, idCursor: cursor });
      asc.push(...page.messages.map((m) => toBigInt(m.v1!.id)));
      cursor = toBigInt(page.pagingInfo!.idCursor);
      if (cursor === 0n) break;
    }
    expect(asc).toEqual([...allDesc].reverse());
    expect(asc).toHaveLength(131);
    const firstData = (await queryGroup(groupId, { direction: 1, limit: 1 })).messages[0]!.v1!.data;
    expect(Buffer.from(firstData).equals(datas[0]!)).toBe(true);
  });

  it("rejects data that is not an MLS group message", async () => {
    const err = await rpcError(sendGroupMessages([Buffer.from("plain text is not MLS")]));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    const none = await rpcError(call(`${MLS}/SendGroupMessages`, new Uint8Array(0)));
    expect(none.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("answers the newest message of each group, with or without content", async () => {
    const a = randomBytes(8);
    const b = randomBytes(8);
    await sendGroupMessages([
      mlsPrivateMessage(a, { ciphertext: Buffer.from("old") }),
      mlsPrivateMessage(a, { contentType: 3 }),
    ]);
    for (const includeContent of [false, true]) {
      const res = mls.GetNewestGroupMessageResponse.decode(
        await call(
          `${MLS}/GetNewestGroupMessage`,
          mls.GetNewestGroupMessageRequest.encode({ groupIds: [a, b], includeContent }).finish(),
        ),
      );
      expect(res.responses).toHaveLength(2);
      const newest = res.responses[0]!.groupMessage!.v1!;
      expect(newest.isCommit).toBe(true);
      expect(Buffer.from(newest.groupId).equals(a)).toBe(true);
      expect(newest.data.length > 0).toBe(includeContent);
      expect(res.responses[1]!.groupMessage).toBeUndefined();
    }
  });
});

describe("subscriptions", () => {
  it("replays from the cursor (also 0), then streams live, without gap or duplicate", async () => {
    const groupId = randomBytes(16);
    await sendGroupMessages(
      Array.from({ length: 5 }, (_, i) => mlsPrivateMessage(groupId, { ciphertext: Buffer.from(`h${i}`) })),
    );
    const history = (await queryGroup(groupId, { direction: 1 })).messages.map((m) => toBigInt(m.v1!.id));

    const request = (cursor: bigint) =>
      mls.SubscribeGroupMessagesRequest.encode(
        mls.SubscribeGroupMessagesRequest.fromPartial({ filters: [{ groupId, idCursor: cursor.toString() }] }),
      ).finish();
    const fromZero = subscribe(`${MLS}/SubscribeGroupMessages`, request(0n), (b) => mls.GroupMessage.decode(b));
    const fromThird = subscribe(`${MLS}/SubscribeGroupMessages`, request(history[2]!), (b) =>
      mls.GroupMessage.decode(b),
    );
    // Writes race the subscriptions' replay.
    const live = Array.from({ length: 40 }, (_, i) => mlsPrivateMessage(groupId, { ciphertext: Buffer.from(`l${i}`) }));
    await Promise.all(live.map((d) => sendGroupMessages([d])));
    await waitFor("all messages streamed", () => fromZero.items.length >= 45 && fromThird.items.length >= 42);

    const all = (await queryGroup(groupId, { direction: 1 })).messages.map((m) => toBigInt(m.v1!.id));
    expect(all).toHaveLength(45);
    // One more, sent after all were streamed: a late duplicate would come before it.
    await sendGroupMessages([mlsPrivateMessage(groupId, { ciphertext: Buffer.from("last") })]);
    const last = toBigInt((await queryGroup(groupId, { direction: 1 })).messages.at(-1)!.v1!.id);
    const ids = (s: typeof fromZero) => s.items.map((m) => toBigInt(m.v1!.id));
    await waitFor("the last message streamed", () => ids(fromZero).includes(last) && ids(fromThird).includes(last));
    expect(ids(fromZero)).toEqual([...all, last]);
    expect(ids(fromThird)).toEqual([...all.slice(3), last]);
    fromZero.cancel();
    fromThird.cancel();
  });

  it("streams welcome messages from the cursor, and refuses an empty filter", async () => {
    const installationKey = randomBytes(32);
    const send = (data: Buffer) =>
      call(
        `${MLS}/SendWelcomeMessages`,
        mls.SendWelcomeMessagesRequest.encode(
          mls.SendWelcomeMessagesRequest.fromPartial({
            messages: [
              {
                v1: {
                  installationKey,
                  data,
                  hpkePublicKey: randomBytes(32),
                  wrapperAlgorithm: 1,
                  welcomeMetadata: Buffer.from("meta"),
                },
              },
            ],
          }),
        ).finish(),
      );
    await send(Buffer.from("welcome 1"));
    await send(Buffer.from("welcome 1")); // a retry
    const sub = subscribe(
      `${MLS}/SubscribeWelcomeMessages`,
      mls.SubscribeWelcomeMessagesRequest.encode(
        mls.SubscribeWelcomeMessagesRequest.fromPartial({ filters: [{ installationKey, idCursor: "0" }] }),
      ).finish(),
      (b) => mls.WelcomeMessage.decode(b),
    );
    await waitFor("replayed welcome", () => sub.items.length === 1);
    await send(Buffer.from("welcome 2"));
    await waitFor("live welcome", () => sub.items.length === 2);
    expect(sub.items.map((w) => Buffer.from(w.v1!.data).toString())).toEqual(["welcome 1", "welcome 2"]);
    expect(Buffer.from(sub.items[0]!.v1!.welcomeMetadata).toString()).toBe("meta");
    sub.cancel();

    const query = mls.QueryWelcomeMessagesResponse.decode(
      await call(
        `${MLS}/QueryWelcomeMessages`,
        mls.QueryWelcomeMessagesRequest.encode(
          mls.QueryWelcomeMessagesRequest.fromPartial({
            installationKey,
            pagingInfo: { direction: 1, limit: 1, idCursor: "0" },
          }),
        ).finish(),
      ),
    );
    expect(query.messages).toHaveLength(1);
    expect(toBigInt(query.pagingInfo!.idCursor)).toBe(toBigInt(sub.items[0]!.v1!.id));

    const empty = subscribe(`${MLS}/SubscribeWelcomeMessages`, new Uint8Array(0), (b) => b);
    await waitFor("refused", () => empty.ended !== undefined);
    expect((empty.ended as grpc.StatusObject).code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe("key packages and commit log", () => {
  it("keeps the latest key package per installation and answers in request order", async () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const upload = (kp: Buffer) =>
      call(
        `${MLS}/UploadKeyPackage`,
        mls.UploadKeyPackageRequest.encode(
          mls.UploadKeyPackageRequest.fromPartial({
            keyPackage: { keyPackageTlsSerialized: kp },
            isInboxIdCredential: false,
          }),
        ).finish(),
      );
    const kp1 = mlsKeyPackage(k1);
    const kp1b = Buffer.concat([mlsKeyPackage(k1), Buffer.from("v2")]);
    await upload(kp1);
    await upload(kp1b);
    await upload(mlsKeyPackage(k2));
    const res = mls.FetchKeyPackagesResponse.decode(
      await call(
        `${MLS}/FetchKeyPackages`,
        mls.FetchKeyPackagesRequest.encode({ installationKeys: [k2, randomBytes(32), k1] }).finish(),
      ),
    );
    expect(res.keyPackages.map((k) => Buffer.from(k.keyPackageTlsSerialized))).toEqual([
      mlsKeyPackage(k2),
      Buffer.alloc(0),
      kp1b,
    ]);
    const bad = await rpcError(upload(Buffer.from([0, 1])));
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("stores commit log entries and pages them ascending", async () => {
    const groupId = randomBytes(16);
    const requests = Array.from({ length: 3 }, (_, i) => ({
      groupId,
      serializedCommitLogEntry: Buffer.from(`entry ${i}`),
      signature: { bytes: randomBytes(64), publicKey: randomBytes(32) },
    }));
    await call(`${MLS}/BatchPublishCommitLog`, mls.BatchPublishCommitLogRequest.encode({ requests }).finish());
    const query = (cursor: string, limit: number, direction = 1) =>
      call(
        `${MLS}/BatchQueryCommitLog`,
        mls.BatchQueryCommitLogRequest.encode(
          mls.BatchQueryCommitLogRequest.fromPartial({
            requests: [{ groupId, pagingInfo: { direction, limit, idCursor: cursor } }],
          }),
        ).finish(),
      ).then((b) => mls.BatchQueryCommitLogResponse.decode(b).responses[0]!);
    const page1 = await query("0", 2);
    expect(page1.commitLogEntries.map((e) => Buffer.from(e.serializedCommitLogEntry).toString())).toEqual([
      "entry 0",
      "entry 1",
    ]);
    expect(Buffer.from(page1.commitLogEntries[0]!.signature!.bytes).equals(requests[0]!.signature.bytes)).toBe(true);
    const page2 = await query(page1.pagingInfo!.idCursor.toString(), 2);
    expect(page2.commitLogEntries.map((e) => Buffer.from(e.serializedCommitLogEntry).toString())).toEqual(["entry 2"]);
    expect(toBigInt(page2.pagingInfo!.idCursor)).toBe(0n);
    expect((await rpcError(query("0", 2, 2))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe("the server", () => {
  it("answers UNIMPLEMENTED for what it does not serve", async () => {
    expect((await rpcError(call(`${MLS}/RevokeInstallation`, new Uint8Array(0)))).code).toBe(grpc.status.UNIMPLEMENTED);
    expect((await rpcError(call("/xmtp.message_api.v1.MessageApi/Query", new Uint8Array(0)))).code).toBe(
      grpc.status.UNIMPLEMENTED,
    );
    // Calls to methods nobody serves are logged, so a client needing more shows up.
    const unknown = logLines
      .map((l) => JSON.parse(l) as { msg: string; method?: string })
      .filter((l) => l.msg === "unknown rpc called");
    expect(unknown.map((l) => l.method)).toEqual(["/xmtp.message_api.v1.MessageApi/Query"]);
  });

  it("survives a restart with every row, and ends open streams on close", async () => {
    const groupId = randomBytes(16);
    await sendGroupMessages([mlsPrivateMessage(groupId)]);
    const sub = subscribe(
      `${MLS}/SubscribeGroupMessages`,
      mls.SubscribeGroupMessagesRequest.encode(
        mls.SubscribeGroupMessagesRequest.fromPartial({ filters: [{ groupId, idCursor: "0" }] }),
      ).finish(),
      (b) => mls.GroupMessage.decode(b),
    );
    await waitFor("replay", () => sub.items.length === 1);
    const started = Date.now();
    client.close();
    await node.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    await waitFor("stream ended", () => sub.ended !== undefined);

    node = await startDevnode({ port: 0, databaseUrl });
    client = plainClient(node.url);
    const after = await queryGroup(groupId);
    expect(after.messages).toHaveLength(1);
    expect(toBigInt(after.messages[0]!.v1!.id)).toBe(toBigInt(sub.items[0]!.v1!.id));
  });
});
