// The node's Prometheus metrics, scraped over HTTP/1.1 from their own port
// while a plain gRPC client talks to the node (real PostgreSQL): calls by
// method and code, messages stored (count and bytes) and relayed, identity
// updates, key packages, open subscriptions, and the scrape token.
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { mls } from "./proto.js";
import { startDevnode, type RunningDevnode } from "./server.js";
import { createInboxUpdate, encodeIdentityUpdate, mlsKeyPackage, mlsPrivateMessage } from "../test/fixtures.js";
import { WireWriter } from "./wire.js";
import { plainClient, serverStream, unaryCall } from "../test/grpc.js";

const MLS_SERVICE = "xmtp.mls.api.v1.MlsApi";
const ID_SERVICE = "xmtp.identity.api.v1.IdentityApi";
const MLS = `/${MLS_SERVICE}`;
const ID = `/${ID_SERVICE}`;
const TOKEN = "scrape-secret";

let node: RunningDevnode;
let client: grpc.Client;

const call = (path: string, request: Uint8Array) => unaryCall(client, path, request);

/** The call's gRPC status code (0 when it succeeded). */
function codeOf(p: Promise<unknown>): Promise<number> {
  return p.then(
    () => 0,
    (err: grpc.ServiceError) => err.code,
  );
}

const subscribeGroup = (groupId: Uint8Array) =>
  serverStream(
    client,
    `${MLS}/SubscribeGroupMessages`,
    mls.SubscribeGroupMessagesRequest.encode(
      mls.SubscribeGroupMessagesRequest.fromPartial({ filters: [{ groupId, idCursor: "0" }] }),
    ).finish(),
    (b) => b,
  );

const subscribeWelcomes = (installationKey: Uint8Array) =>
  serverStream(
    client,
    `${MLS}/SubscribeWelcomeMessages`,
    mls.SubscribeWelcomeMessagesRequest.encode(
      mls.SubscribeWelcomeMessagesRequest.fromPartial({ filters: [{ installationKey, idCursor: "0" }] }),
    ).finish(),
    (b) => b,
  );

function sendGroupMessages(datas: Uint8Array[]): Promise<Buffer> {
  return call(
    `${MLS}/SendGroupMessages`,
    mls.SendGroupMessagesRequest.encode(
      mls.SendGroupMessagesRequest.fromPartial({
        messages: datas.map((data) => ({ v1: { data, senderHmac: Buffer.from("hmac") } })),
      }),
    ).finish(),
  );
}

/** The scrape, as a reader of samples. */
async function scrape(): Promise<Samples> {
  const res = await fetch(`${node.metricsUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return new Samples(await res.text());
}

class Samples {
  constructor(readonly text: string) {}

  /** The value of `name{labels}` whose labels include every one given; 0 when there is none (a counter not yet counted). */
  get(name: string, labels: Record<string, string> = {}): number {
    for (const line of this.text.split("\n")) {
      if (!line.startsWith(`${name}{`)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
        return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return 0;
  }
}

/** How much each sample grew between two scrapes. */
function grew(before: Samples, after: Samples) {
  return (name: string, labels: Record<string, string> = {}) => after.get(name, labels) - before.get(name, labels);
}

const rpc = (service: string, method: string, code: string) => ({
  service,
  method,
  code,
  pool_service: "xmtp-devnode",
});

beforeAll(async () => {
  // The token comes from the environment, as in `npm start` and main.ts.
  const previous = process.env.POOL_METRICS_TOKEN;
  process.env.POOL_METRICS_TOKEN = TOKEN;
  try {
    node = await startDevnode({
      port: 0,
      metricsPort: 0,
      databaseUrl: await createTestDatabase("xmtp_devnode_metrics"),
    });
  } finally {
    if (previous === undefined) delete process.env.POOL_METRICS_TOKEN;
    else process.env.POOL_METRICS_TOKEN = previous;
  }
  client = plainClient(node.url);
});

afterAll(async () => {
  client?.close();
  await node?.close();
});

describe("the node's metrics", () => {
  it("count every call by method and code, the messages stored and relayed, identity updates, key packages and open subscriptions", async () => {
    const before = await scrape();

    // Identity: one update stored, one refused.
    const update = encodeIdentityUpdate(createInboxUpdate(privateKeyToAccount(generatePrivateKey()).address));
    expect(await codeOf(call(`${ID}/PublishIdentityUpdate`, new WireWriter().bytes(1, update).finish()))).toBe(0);
    expect(
      await codeOf(
        call(`${ID}/PublishIdentityUpdate`, new WireWriter().bytes(1, Buffer.from("not an update")).finish()),
      ),
    ).toBe(grpc.status.INVALID_ARGUMENT);

    // Key packages: one by registration, one by upload.
    const keyPackage = {
      keyPackage: { keyPackageTlsSerialized: mlsKeyPackage(randomBytes(32)) },
      isInboxIdCredential: false,
    };
    const register = mls.RegisterInstallationRequest.fromPartial(keyPackage);
    await call(`${MLS}/RegisterInstallation`, mls.RegisterInstallationRequest.encode(register).finish());
    await call(
      `${MLS}/UploadKeyPackage`,
      mls.UploadKeyPackageRequest.encode(mls.UploadKeyPackageRequest.fromPartial(keyPackage)).finish(),
    );

    // Group messages: three in one call, one of them resent (stored once), an empty call refused.
    const groupId = randomBytes(16);
    const first = [1, 2, 3].map((i) => mlsPrivateMessage(groupId, { ciphertext: randomBytes(100 * i) }));
    await sendGroupMessages(first);
    await sendGroupMessages([first[0]!]);
    expect(await codeOf(sendGroupMessages([]))).toBe(grpc.status.INVALID_ARGUMENT);

    // A subscription replays the three, then relays two more live.
    const sub = subscribeGroup(groupId);
    await waitFor("the history replayed", () => sub.items.length === 3);
    const open = (await scrape()).get("xmtp_devnode_subscriptions", { kind: "group" });
    expect(open).toBe(before.get("xmtp_devnode_subscriptions", { kind: "group" }) + 1);
    const live = [
      mlsPrivateMessage(groupId, { ciphertext: randomBytes(7) }),
      mlsPrivateMessage(groupId, { ciphertext: randomBytes(9) }),
    ];
    await sendGroupMessages(live);
    await waitFor("the live messages relayed", () => sub.items.length === 5);

    // Welcomes: two installations, one call.
    const welcomes = [randomBytes(50), randomBytes(70)];
    await call(
      `${MLS}/SendWelcomeMessages`,
      mls.SendWelcomeMessagesRequest.encode(
        mls.SendWelcomeMessagesRequest.fromPartial({
          messages: welcomes.map((data) => ({
            v1: {
              installationKey: randomBytes(32),
              data,
              hpkePublicKey: randomBytes(32),
              wrapperAlgorithm: 1,
              welcomeMetadata: Buffer.from("m"),
            },
          })),
        }),
      ).finish(),
    );

    // What the node does not serve: a method it knows as unimplemented, and paths nobody serves.
    expect(await codeOf(call(`${MLS}/RevokeInstallation`, new Uint8Array(0)))).toBe(grpc.status.UNIMPLEMENTED);
    expect(await codeOf(call(`${MLS}/NoSuchMethod`, new Uint8Array(0)))).toBe(grpc.status.UNIMPLEMENTED);
    expect(await codeOf(call("/xmtp.message_api.v1.MessageApi/Query", new Uint8Array(0)))).toBe(
      grpc.status.UNIMPLEMENTED,
    );

    // The client ends its subscription: counted when it ends, as canceled, and no longer open.
    sub.cancel();
    await waitFor(
      "the subscription counted as canceled",
      async () =>
        grew(before, await scrape())(
          "pool_rpc_requests_total",
          rpc(MLS_SERVICE, "SubscribeGroupMessages", "canceled"),
        ) === 1,
    );

    const after = await scrape();
    const d = grew(before, after);
    expect(d("pool_rpc_requests_total", rpc(ID_SERVICE, "PublishIdentityUpdate", "ok"))).toBe(1);
    expect(d("pool_rpc_requests_total", rpc(ID_SERVICE, "PublishIdentityUpdate", "invalid_argument"))).toBe(1);
    expect(d("pool_rpc_requests_total", rpc(MLS_SERVICE, "RegisterInstallation", "ok"))).toBe(1);
    expect(d("pool_rpc_requests_total", rpc(MLS_SERVICE, "UploadKeyPackage", "ok"))).toBe(1);
    expect(d("pool_rpc_requests_total", rpc(MLS_SERVICE, "SendGroupMessages", "ok"))).toBe(3);
    expect(d("pool_rpc_requests_total", rpc(MLS_SERVICE, "SendGroupMessages", "invalid_argument"))).toBe(1);
    expect(d("pool_rpc_requests_total", rpc(MLS_SERVICE, "SendWelcomeMessages", "ok"))).toBe(1);
    expect(d("pool_rpc_requests_total", rpc(MLS_SERVICE, "SubscribeGroupMessages", "ok"))).toBe(0);
    expect(d("pool_rpc_requests_total", rpc(MLS_SERVICE, "RevokeInstallation", "unimplemented"))).toBe(1);
    expect(d("pool_rpc_requests_total", rpc(MLS_SERVICE, "unknown", "unimplemented"))).toBe(1);
    expect(d("pool_rpc_requests_total", rpc("unknown", "unknown", "unimplemented"))).toBe(1);
    // Latencies, under the same labels.
    expect(d("pool_rpc_duration_seconds_count", rpc(MLS_SERVICE, "SendGroupMessages", "ok"))).toBe(3);
    expect(d("pool_rpc_duration_seconds_count", rpc(MLS_SERVICE, "SubscribeGroupMessages", "canceled"))).toBe(1);
    expect(d("pool_rpc_duration_seconds_sum", rpc(MLS_SERVICE, "SubscribeGroupMessages", "canceled"))).toBeGreaterThan(
      0,
    );

    // What was stored: five distinct group messages (the resend is not one), two welcomes.
    expect(d("xmtp_devnode_messages_published_total", { kind: "group" })).toBe(5);
    expect(d("xmtp_devnode_published_bytes_total", { kind: "group" })).toBe(
      [...first, ...live].reduce((n, m) => n + m.length, 0),
    );
    expect(d("xmtp_devnode_messages_published_total", { kind: "welcome" })).toBe(2);
    expect(d("xmtp_devnode_published_bytes_total", { kind: "welcome" })).toBe(120);
    // What was relayed: three replayed, two live, to the one subscriber.
    expect(d("xmtp_devnode_messages_relayed_total", { kind: "group" })).toBe(5);
    expect(d("xmtp_devnode_messages_relayed_total", { kind: "welcome" })).toBe(0);
    expect(d("xmtp_devnode_identity_updates_total")).toBe(1);
    expect(d("xmtp_devnode_key_packages_total")).toBe(2);
    expect(after.get("xmtp_devnode_subscriptions", { kind: "group" })).toBe(
      before.get("xmtp_devnode_subscriptions", { kind: "group" }),
    );

    // The process's own figures, labelled like every pool service's.
    expect(after.text).toMatch(/^process_resident_memory_bytes\{pool_service="xmtp-devnode"\} \d+/m);
    expect(after.text).toMatch(/^nodejs_eventloop_lag_seconds\{pool_service="xmtp-devnode"\}/m);
  });

  it("answer only the metrics token, at GET /metrics only, over HTTP/1.1 beside the gRPC port", async () => {
    expect(node.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(node.metricsUrl).not.toBe(node.url);
    const url = `${node.metricsUrl}/metrics`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(await none.text()).not.toContain("pool_rpc_requests_total");
    expect((await fetch(url, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: TOKEN } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("text/plain");
    expect((await fetch(`${node.metricsUrl}/other`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(
      404,
    );
    expect((await fetch(url, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });

  it("count a subscription the node ends by closing as unavailable, and stop serving scrapes once closed", async () => {
    const before = await scrape();
    const sub = subscribeWelcomes(randomBytes(32));
    await waitFor(
      "the subscription open",
      async () => (await scrape()).get("xmtp_devnode_subscriptions", { kind: "welcome" }) === 1,
    );
    client.close();
    await node.close();
    await waitFor("the stream ended", () => sub.ended !== undefined);
    expect(sub.ended!.code).toBe(grpc.status.UNAVAILABLE);

    // Closed: read in process.
    const after = new Samples((await node.metrics.text()).body);
    expect(
      grew(before, after)("pool_rpc_requests_total", rpc(MLS_SERVICE, "SubscribeWelcomeMessages", "unavailable")),
    ).toBe(1);
    expect(after.get("xmtp_devnode_subscriptions", { kind: "welcome" })).toBe(0);
    await expect(fetch(`${node.metricsUrl}/metrics`)).rejects.toThrow();
  });
});
