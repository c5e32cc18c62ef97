// Messages through the local XMTP node: two real @xmtp/node-sdk 6 clients in
// a two-member MLS group, and the node alone over plain gRPC for context.
// Run: npm run bench:xmtp   (starts a throwaway PostgreSQL; prints figures)
//
// The node runs in its own process on real PostgreSQL, as `npm start` runs
// it; the two clients (each with its own encrypted SQLite database on disk)
// and the plain gRPC client share this process. Measured:
// - throughput: BENCH_XMTP_MESSAGES (1000) texts sent by A with
//   BENCH_XMTP_CONCURRENCY (8) sends in flight, timed until B's stream has
//   received every one, and the same through the node alone (SendGroupMessages
//   of ciphertext-sized MLS framings, counted on a SubscribeGroupMessages
//   stream), alternating in five rounds; medians and the median ratio;
// - latency: BENCH_XMTP_SAMPLES (1000) sequential sends, time from the send
//   call to arrival on the receiver's stream, interleaved sample by sample
//   with the node alone (send, arrival on a subscription; and a send followed
//   by a QueryGroupMessages, what a syncing receiver does), so a noisy moment
//   on a shared machine hits both alike. The ratios are the figures to read.
// - the node's RPCs per SDK message (from the node's debug log).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import * as grpc from "@grpc/grpc-js";
import pg from "pg";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createXmtpClient } from "@convos-pool/convos";
import { createTestDatabase, startServiceProcess } from "@convos-pool/testing";
import { mls } from "@convos-pool/xmtp-devnode/proto";
import { mlsPrivateMessage } from "@convos-pool/xmtp-devnode/testing";
import { QUICK, figures, fmt, median, size, NODE_WITHOUT_RATE_LIMITS } from "./lib.js";

const MESSAGES = size("BENCH_XMTP_MESSAGES", 1000, 40);
const CONCURRENCY = size("BENCH_XMTP_CONCURRENCY", 8, 4);
const SAMPLES = size("BENCH_XMTP_SAMPLES", 1000, 40);
const ROUNDS = QUICK ? 1 : 5;
const WARMUP = QUICK ? 2 : 20;
const MLS_API = "/xmtp.mls.api.v1.MlsApi";

type SdkClient = Awaited<ReturnType<typeof createXmtpClient>>;
type Conversation = NonNullable<Awaited<ReturnType<SdkClient["conversations"]["getConversationById"]>>>;

// ---------------------------------------------------------------- the node, in its own process

/** The devnode as `npm start` runs it; its debug log counts the RPCs it serves. */
async function startNodeProcess(databaseUrl: string) {
  const rpcs = new Map<string, number>();
  const node = await startServiceProcess("services/xmtp-devnode/src/main.ts", {
    env: { DATABASE_URL: databaseUrl, LOG_LEVEL: "debug", ...NODE_WITHOUT_RATE_LIMITS },
    readyPrefix: "XMTP devnode:",
    timeoutMs: 30_000,
    onLine: (line) => {
      if (line.startsWith("XMTP devnode:")) return;
      let entry: { level?: string; msg?: string; method?: string } = {};
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        process.stderr.write(`${line}\n`);
        return;
      }
      if (entry.msg === "rpc" && entry.method) rpcs.set(entry.method, (rpcs.get(entry.method) ?? 0) + 1);
      else if (entry.level === "warn" || entry.level === "error") process.stderr.write(`${line}\n`);
    },
  });
  return {
    url: node.url,
    port: node.port,
    /** A copy of the RPC counts so far (the log arrives through a pipe: settle first). */
    async rpcCounts(): Promise<Map<string, number>> {
      await new Promise((r) => setTimeout(r, 300));
      return new Map(rpcs);
    },
    stop: () => node.stop(),
  };
}

// ---------------------------------------------------------------- SDK clients

function sdkClient(apiUrl: string, dir: string, name: string) {
  return createXmtpClient(privateKeyToAccount(generatePrivateKey()), {
    apiUrl,
    dbPath: join(dir, `${name}.db3`),
    dbEncryptionKey: randomBytes(32),
  });
}

/**
 * Arrivals on a stream: counts them and resolves a waiter registered for a
 * given key with its arrival time.
 */
class Arrivals {
  count = 0;
  private readonly waiters = new Map<string, (at: number) => void>();
  private onCount: (() => void) | undefined;

  arrived(key: string | undefined, at: number): void {
    this.count++;
    this.onCount?.();
    const w = key === undefined ? undefined : this.waiters.get(key);
    if (w && key !== undefined) {
      this.waiters.delete(key);
      w(at);
    }
  }

  /** Resolves with the arrival time of `key`. */
  arrival(key: string): Promise<number> {
    return new Promise((resolve) => this.waiters.set(key, resolve));
  }

  /** Resolves when `n` have arrived in all. */
  until(n: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.count >= n) return resolve();
      this.onCount = () => {
        if (this.count >= n) {
          this.onCount = undefined;
          resolve();
        }
      };
    });
  }
}

/** B's side: a group stream whose arrivals are keyed by text. */
async function receiver(group: Conversation) {
  const arrivals = new Arrivals();
  const stream = await group.stream({ retryDelay: 100 });
  void (async () => {
    for await (const m of stream) {
      const at = performance.now();
      if (typeof m?.content === "string") arrivals.arrived(m.content, at);
    }
  })();
  return { arrivals, end: () => stream.end() };
}

// ---------------------------------------------------------------- the node alone, over plain gRPC

function plainClient(url: string) {
  const client = new grpc.Client(url.replace(/^http:\/\//, ""), grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
  });
  const raw = (b: Buffer) => b;
  const call = (method: string, request: Uint8Array) =>
    new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        `${MLS_API}/${method}`,
        (b: Uint8Array) => Buffer.from(b),
        raw,
        request,
        (err, res) => (err ? reject(err) : resolve(res!)),
      ),
    );
  return {
    send: (data: Uint8Array) =>
      call(
        "SendGroupMessages",
        mls.SendGroupMessagesRequest.encode(
          mls.SendGroupMessagesRequest.fromPartial({
            messages: [{ v1: { data, senderHmac: randomBytes(32), shouldPush: true } }],
          }),
        ).finish(),
      ),
    /** The newest message of the group (a receiver polling with a sync). */
    newest: async (groupId: Uint8Array) =>
      mls.QueryGroupMessagesResponse.decode(
        await call(
          "QueryGroupMessages",
          mls.QueryGroupMessagesRequest.encode(
            mls.QueryGroupMessagesRequest.fromPartial({
              groupId,
              pagingInfo: { direction: 2, limit: 1, idCursor: "0" },
            }),
          ).finish(),
        ),
      ).messages[0],
    /** A subscription to one group: counts arrivals, resolves waiters by content. */
    subscribe(groupId: Uint8Array) {
      const arrivals = new Arrivals();
      const stream = client.makeServerStreamRequest(
        `${MLS_API}/SubscribeGroupMessages`,
        (b: Uint8Array) => Buffer.from(b),
        raw,
        mls.SubscribeGroupMessagesRequest.encode(
          mls.SubscribeGroupMessagesRequest.fromPartial({ filters: [{ groupId, idCursor: "0" }] }),
        ).finish(),
      );
      stream.on("data", (b: Buffer) => {
        const at = performance.now();
        const data = mls.GroupMessage.decode(b).v1?.data;
        arrivals.arrived(data && Buffer.from(data).toString("base64"), at);
      });
      stream.on("error", () => {}); // cancelled at the end
      return { arrivals, cancel: () => stream.cancel() };
    },
    close: () => client.close(),
  };
}

/** `p`, or a clear failure when a message never arrives (instead of a bench that hangs). */
function within<T>(p: Promise<T>, what: string, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `n` jobs with `concurrency` in flight. */
async function bounded(n: number, concurrency: number, job: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

function rpcDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [method, n] of after) {
    const d = n - (before.get(method) ?? 0);
    if (d > 0) out.set(method.replace(/^xmtp\.\w+\.api\.v1\.\w+\//, ""), d);
  }
  return out;
}

// ---------------------------------------------------------------- main

async function main() {
  const databaseUrl = await createTestDatabase("xmtp_bench");
  const node = await startNodeProcess(databaseUrl);
  const dir = await mkdtemp(join(tmpdir(), "xmtp-bench-"));
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const plain = plainClient(node.url);
  try {
    // ---- two clients, one two-member group, B listening on a stream
    const a = await sdkClient(node.url, dir, "a");
    const b = await sdkClient(node.url, dir, "b");
    const groupA = await a.conversations.createGroup([b.inboxId]);
    await b.conversations.sync();
    const groupB = await b.conversations.getConversationById(groupA.id);
    if (!groupB) throw new Error("B did not receive the group");
    const rx = await receiver(groupB);
    const tag = randomBytes(4).toString("hex");
    for (let i = 0; i < WARMUP; i++) {
      const t = `warm ${tag} ${i}`;
      const arrived = rx.arrivals.arrival(t);
      await groupA.sendText(t);
      await within(arrived, "a warm-up message on B's stream");
    }
    // Raw messages the size of the SDK's application messages, so both move the same bytes.
    const { rows } = await db.query<{ n: number }>(
      "select avg(length(data))::int as n from group_messages where not is_commit",
    );
    const ciphertextBytes = rows[0]!.n;
    const rawGroup = randomBytes(32);
    const rawMessage = () =>
      mlsPrivateMessage(rawGroup, { ciphertext: randomBytes(Math.max(16, ciphertextBytes - 60)) });
    const sub = plain.subscribe(rawGroup);
    for (let i = 0; i < WARMUP; i++) {
      const m = rawMessage();
      const arrived = sub.arrivals.arrival(Buffer.from(m).toString("base64"));
      await plain.send(m);
      await within(arrived, "a warm-up message on the subscription");
    }

    // ---- throughput, in rounds alternating SDK and node alone (a noisy moment hits both alike)
    const perRound = Math.ceil(MESSAGES / ROUNDS);
    const sdkRates: number[] = [];
    const rawRates: number[] = [];
    const sdkRpcs = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      const rpcBefore = await node.rpcCounts();
      const allReceived = rx.arrivals.until(rx.arrivals.count + perRound);
      let t0 = performance.now();
      await bounded(perRound, CONCURRENCY, (i) => groupA.sendText(`bulk ${tag} ${round} ${i}`));
      await within(allReceived, "every message on B's stream");
      const sdkMs = performance.now() - t0;
      sdkRates.push(perRound / (sdkMs / 1000));
      for (const [m, n] of rpcDelta(rpcBefore, await node.rpcCounts())) sdkRpcs.set(m, (sdkRpcs.get(m) ?? 0) + n);

      const rawBulk = Array.from({ length: perRound }, rawMessage);
      const rawAllReceived = sub.arrivals.until(sub.arrivals.count + perRound);
      t0 = performance.now();
      await bounded(perRound, CONCURRENCY, (i) => plain.send(rawBulk[i]!));
      await within(rawAllReceived, "every message on the subscription");
      rawRates.push(perRound / ((performance.now() - t0) / 1000));
    }
    const sdkMessages = perRound * ROUNDS;

    // ---- latency, interleaved sample by sample
    const sdkLatency: number[] = [];
    const sdkSendCall: number[] = [];
    const rawLatency: number[] = [];
    const rawSendQuery: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const text = `latency ${tag} ${i}`;
      const arrived = rx.arrivals.arrival(text);
      let t = performance.now();
      await groupA.sendText(text);
      sdkSendCall.push(performance.now() - t);
      sdkLatency.push((await within(arrived, "a message on B's stream")) - t);

      const m = rawMessage();
      const rawArrived = sub.arrivals.arrival(Buffer.from(m).toString("base64"));
      t = performance.now();
      await plain.send(m);
      rawLatency.push((await within(rawArrived, "a message on the subscription")) - t);

      const q = rawMessage();
      t = performance.now();
      await plain.send(q);
      const newest = await plain.newest(rawGroup);
      rawSendQuery.push(performance.now() - t);
      if (!newest?.v1 || !Buffer.from(newest.v1.data).equals(q))
        throw new Error("query did not return the message just sent");
    }

    await rx.end();
    sub.cancel();

    const lat = figures(sdkLatency);
    const call = figures(sdkSendCall);
    const rawLat = figures(rawLatency);
    const rawSq = figures(rawSendQuery);
    const sdkRate = median(sdkRates);
    const rawRate = median(rawRates);
    const ratio = median(rawRates.map((r, i) => r / sdkRates[i]!));
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
    const perMessage = [...sdkRpcs]
      .sort((x, y) => y[1] - x[1])
      .map(([m, n]) => (n / sdkMessages >= 0.01 ? `${m} ${(n / sdkMessages).toFixed(2)}` : `${m} (${n} in all)`))
      .join(", ");

    const lines = [
      `npm run bench:xmtp   (bench/xmtp.ts; @xmtp/node-sdk ${sdkVersion()}, libxmtp ${a.libxmtpVersion ?? "?"})`,
      `local XMTP node in its own process on PostgreSQL; two SDK clients (encrypted SQLite on disk) in a two-member group;`,
      `application message ciphertext ~${ciphertextBytes} bytes; the node-alone runs send MLS framings of that size (no MLS work)`,
      ``,
      `throughput: ${ROUNDS} rounds of ${perRound} messages each way, ${CONCURRENCY} sends in flight, timed until all arrived on the`,
      `receiver's stream; median of the rounds (range):`,
      `  SDK, A -> B through the node     ${sdkRate.toFixed(0).padStart(7)} msg/s   (${range(sdkRates)})`,
      `  node alone, gRPC send -> stream  ${rawRate.toFixed(0).padStart(7)} msg/s   (${range(rawRates)})`,
      `  ratio node alone / SDK           ${ratio.toFixed(1).padStart(7)} x`,
      `  node RPCs per SDK message: ${perMessage}`,
      ``,
      `latency, ${SAMPLES} sequential sends each (interleaved):   p50 ms   p99 ms  mean ms`,
      `  SDK send -> receiver's stream                 ${fmt(lat.p50)} ${fmt(lat.p99)} ${fmt(lat.mean)}`,
      `  SDK sendText() resolving (publish, own sync) ${fmt(call.p50)} ${fmt(call.p99)} ${fmt(call.mean)}`,
      `  node alone: send -> subscription              ${fmt(rawLat.p50)} ${fmt(rawLat.p99)} ${fmt(rawLat.mean)}`,
      `  node alone: send, then query newest           ${fmt(rawSq.p50)} ${fmt(rawSq.p99)} ${fmt(rawSq.mean)}`,
      `  ratio SDK / node alone (stream)               ${fmt(lat.p50 / rawLat.p50)} ${fmt(lat.p99 / rawLat.p99)} ${fmt(lat.mean / rawLat.mean)}`,
    ];
    console.log(lines.join("\n"));
    await Promise.all([a.close(), b.close()]);
  } finally {
    plain.close();
    await db.end();
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The installed version, as npm resolved it. */
function sdkVersion(): string {
  try {
    const path = createRequire(import.meta.url).resolve("@xmtp/node-sdk/package.json");
    return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

await main();
