// The node's limit on streams held at once (subscriptions.ts, maxStreams;
// docs/xmtp-devnode.md, "Streams"). Real: the node (gRPC over HTTP/2, real
// PostgreSQL) and a plain @grpc/grpc-js client's subscriptions (test/grpc.ts).
// What must hold: past the limit a new subscription is refused at once with
// RESOURCE_EXHAUSTED, the streams already open keep delivering, and once one
// closes a new one opens.
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { mls } from "./proto.js";
import { startDevnode, type RunningDevnode } from "./server.js";
import { plainClient, serverStream, unaryCall } from "../test/grpc.js";

const MLS = "/xmtp.mls.api.v1.MlsApi";
let node: RunningDevnode;
let client: grpc.Client;
const installationKey = randomBytes(32);

const sendWelcome = (data: string) =>
  unaryCall(
    client,
    `${MLS}/SendWelcomeMessages`,
    mls.SendWelcomeMessagesRequest.encode(
      mls.SendWelcomeMessagesRequest.fromPartial({
        messages: [
          {
            v1: {
              installationKey,
              data: Buffer.from(data),
              hpkePublicKey: randomBytes(32),
              wrapperAlgorithm: 1,
              welcomeMetadata: Buffer.from("meta"),
            },
          },
        ],
      }),
    ).finish(),
  );

/** A subscription to the installation's welcomes, which replays the one sent first. */
const subscribe = () =>
  serverStream(
    client,
    `${MLS}/SubscribeWelcomeMessages`,
    mls.SubscribeWelcomeMessagesRequest.encode(
      mls.SubscribeWelcomeMessagesRequest.fromPartial({ filters: [{ installationKey, idCursor: "0" }] }),
    ).finish(),
    (b) => mls.WelcomeMessage.decode(b),
  );

beforeAll(async () => {
  const databaseUrl = await createTestDatabase("xmtp_devnode_streams");
  node = await startDevnode({
    port: 0,
    databaseUrl,
    maxStreams: 2,
    log: createLogger("xmtp-devnode", { level: "silent" }),
  });
  client = plainClient(node.url);
  await sendWelcome("welcome 1");
});

afterAll(async () => {
  client?.close();
  await node?.close();
});

describe("a node at its most streams", () => {
  it("refuses one more at once, keeps the open ones delivering, and opens a new one once one closed", async () => {
    const a = subscribe();
    const b = subscribe();
    await waitFor("both streams replayed", () => a.items.length === 1 && b.items.length === 1);

    const refused = subscribe();
    await waitFor("the third refused", () => refused.ended !== undefined);
    expect(refused.ended!.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.ended!.details).toMatch(/most streams \(2\)/);
    expect(refused.items).toEqual([]);

    await sendWelcome("welcome 2");
    await waitFor("the open streams still live", () => a.items.length === 2 && b.items.length === 2);

    a.cancel();
    // The node sees the cancel in its own time: ask until a new stream replays instead of being refused.
    let opened: ReturnType<typeof subscribe> | undefined;
    await waitFor("a new stream once one closed", async () => {
      const next = subscribe();
      await waitFor("replayed or refused", () => next.items.length > 0 || next.ended !== undefined);
      if (next.items.length > 0) opened = next;
      return opened !== undefined;
    });
    expect(opened!.ended).toBeUndefined();
    b.cancel();
    opened!.cancel();
  });
});
