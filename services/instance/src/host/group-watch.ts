// Dormant agents and the one subscription that wakes them (docs/instance.md,
// "Dormancy").
//
// A claimed agent costs its host an XMTP client: about 1 MB, its database's
// three open files and a connection to the node (bench/live-agents.ts),
// held whether or not anyone talks to the agent.
// An agent quiet for `afterMs` goes dormant (agent/life/dormancy.ts): its client
// is closed and its memory dropped; its workspace, XMTP database included,
// stays on disk. What must still reach it is a message in its conversation,
// and for that the host needs no keys: the XMTP node's
// `MlsApi/SubscribeGroupMessages` takes group ids and cursors and streams
// ciphertext. `GroupWatch` holds that subscription for every dormant agent
// of the host and calls the agent back on the first application message
// (not a commit) past its cursor; the agent then builds its client, syncs,
// and answers what came (agent/life/dormancy.ts).
//
// Nothing is missed: an agent's cursor is the node's newest message id of
// its group taken before its last sync (agent/life/dormancy.ts), so a message
// is either in what it read before sleeping, or past the cursor; and a
// subscription replays from its cursors, so a message that came while the
// subscription was being (re)opened, or while the host was down (the cursor
// is kept in the workspace's dormant.json), is delivered when it opens.
//
// One HTTP/2 connection to the node; the groups are spread over streams of
// at most SHARD_SIZE groups, so that an agent falling asleep reopens one
// stream with its shard's filters, not one with every dormant group (the
// node replays each filter from its cursor when a stream opens). Agents
// that wake are only forgotten; their shard's stream goes on carrying their
// group until the shard next reopens, and its messages are ignored.
//
// A reopen waits until no agent has fallen asleep for FLUSH_MS, but no
// longer than FLUSH_MAX_MS, and a shard that has just filled opens at once:
// a host restoring thousands of dormant agents (one every few ms) opens
// each shard about once, where a reopen every FLUSH_MS had the node replay
// each shard's groups dozens of times (bench/live-agents.ts).
//
// The gRPC calls are made by hand (length-prefixed protobuf over node:http2)
// with the few fields they need, so the host depends on neither a gRPC
// library nor XMTP's generated code for two calls.

import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
} from "node:http2";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { forEachLimited, type Logger } from "@convos-pool/kit/server";
import type { DormancyOptions, DormancyWatch } from "../agent/life/deps.js";

const MLS_API = "/xmtp.mls.api.v1.MlsApi";
/** Groups per subscription stream. */
export const SHARD_SIZE = 256;
/** Agents that fall asleep together reopen their shard once: it waits this long after the last. */
const FLUSH_MS = 100;
/** ... but no longer than this after the first. */
export const FLUSH_MAX_MS = 1_000;

interface Watched {
  groupId: string;
  cursor: bigint;
  onMessage: () => void;
  shard: Shard;
}

interface Shard {
  /** Its groups, by id: the same entries as GroupWatch.watched. */
  groups: Map<string, Watched>;
  stream: ClientHttp2Stream | undefined;
  dirty: boolean;
}

/** One frame of gRPC: a flag byte, a big-endian length, the message. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Splits gRPC frames out of a stream's data as it comes. */
class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, each: (message: Uint8Array) => void): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1);
      if (this.buf.length < 5 + len) return;
      each(this.buf.subarray(5, 5 + len));
      this.buf = this.buf.subarray(5 + len);
    }
  }
}

interface GroupMessageV1 {
  id: bigint;
  groupId: string;
  isCommit: boolean;
}

/** xmtp.mls.api.v1.GroupMessage: only v1 (field 1) and, in it, id (1), group_id (3), is_commit (7). */
export function readGroupMessage(bytes: Uint8Array): GroupMessageV1 | undefined {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, type] = r.tag();
    if (field !== 1) {
      r.skip(type);
      continue;
    }
    const v = new BinaryReader(r.bytes());
    const out: GroupMessageV1 = { id: 0n, groupId: "", isCommit: false };
    while (v.pos < v.len) {
      const [f, t] = v.tag();
      if (f === 1) out.id = BigInt(v.uint64());
      else if (f === 3) out.groupId = Buffer.from(v.bytes()).toString("hex");
      else if (f === 7) out.isCommit = v.bool();
      else v.skip(t);
    }
    return out;
  }
  return undefined;
}

/** The host's subscription to its dormant agents' groups on the XMTP node (above). */
export class GroupWatch implements DormancyWatch {
  private session: ClientHttp2Session | undefined;
  private readonly watched = new Map<string, Watched>();
  private readonly shards: Shard[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /** When the oldest change not yet flushed was made (Date.now()). */
  private pendingSince: number | undefined;
  private opened = 0;
  private closed = false;

  constructor(private readonly opts: { apiUrl: string; log: Logger; retryMs?: number }) {}

  /** Groups watched now (metrics, tests). */
  get size(): number {
    return this.watched.size;
  }

  /** Subscription streams opened so far, reopens included (tests). */
  get opens(): number {
    return this.opened;
  }

  /** Open subscription streams (metrics, tests). */
  get streams(): number {
    return this.shards.filter((s) => s.stream).length;
  }

  private connection(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = connect(this.opts.apiUrl);
    session.on("error", (err) => this.opts.log.warn("dormancy: the connection to the XMTP node failed", { err }));
    session.on("close", () => {
      if (this.session === session) this.session = undefined;
    });
    // Streams keep it busy; idle, it must not keep the process alive.
    session.unref();
    this.session = session;
    return session;
  }

  async newest(groupId: string): Promise<bigint> {
    const w = new BinaryWriter();
    w.uint32(10).bytes(Buffer.from(groupId, "hex"));
    w.uint32(16).bool(false);
    const reply = await this.unary("GetNewestGroupMessage", w.finish());
    // GetNewestGroupMessageResponse{responses(1): Response{group_message(1)}}
    const r = new BinaryReader(reply);
    while (r.pos < r.len) {
      const [field, type] = r.tag();
      if (field !== 1) {
        r.skip(type);
        continue;
      }
      const resp = new BinaryReader(r.bytes());
      while (resp.pos < resp.len) {
        const [f, t] = resp.tag();
        if (f === 1) return readGroupMessage(resp.bytes())?.id ?? 0n;
        resp.skip(t);
      }
    }
    return 0n;
  }

  watch(groupId: string, cursor: bigint, onMessage: () => void): void {
    if (this.closed) return;
    this.unwatch(groupId);
    let shard = this.shards.find((s) => s.groups.size < SHARD_SIZE);
    if (!shard) {
      shard = { groups: new Map(), stream: undefined, dirty: false };
      this.shards.push(shard);
    }
    const watched = { groupId, cursor, onMessage, shard };
    shard.groups.set(groupId, watched);
    this.watched.set(groupId, watched);
    if (shard.groups.size === SHARD_SIZE) {
      // Full: nothing more will join it, so waiting would only delay it.
      shard.dirty = false;
      this.subscribe(shard);
      return;
    }
    shard.dirty = true;
    const now = Date.now();
    this.pendingSince ??= now;
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(
      () => this.flush(),
      Math.max(0, Math.min(FLUSH_MS, this.pendingSince + FLUSH_MAX_MS - now)),
    );
  }

  unwatch(groupId: string): void {
    const w = this.watched.get(groupId);
    if (!w) return;
    this.watched.delete(groupId);
    w.shard.groups.delete(groupId);
    if (w.shard.groups.size === 0) this.close_(w.shard);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.flushTimer);
    for (const s of this.shards) this.close_(s);
    this.shards.length = 0;
    this.watched.clear();
    this.session?.close();
    this.session = undefined;
  }

  private close_(shard: Shard): void {
    const s = shard.stream;
    shard.stream = undefined;
    s?.close(constants.NGHTTP2_CANCEL);
  }

  /** Reopens every shard that changed, each with its groups' cursors. */
  private flush(): void {
    this.flushTimer = undefined;
    this.pendingSince = undefined;
    if (this.closed) return;
    for (const shard of this.shards) {
      if (!shard.dirty) continue;
      shard.dirty = false;
      this.subscribe(shard);
    }
  }

  private subscribe(shard: Shard): void {
    const previous = shard.stream;
    shard.stream = undefined;
    if (shard.groups.size === 0) {
      previous?.close(constants.NGHTTP2_CANCEL);
      return;
    }
    // SubscribeGroupMessagesRequest{filters(1): Filter{group_id(1), id_cursor(2)}}
    const w = new BinaryWriter();
    for (const [id, { cursor }] of shard.groups) {
      w.uint32(10).fork().uint32(10).bytes(Buffer.from(id, "hex")).uint32(16).uint64(cursor).join();
    }
    let stream: ClientHttp2Stream;
    this.opened++;
    try {
      stream = this.connection().request({
        ":method": "POST",
        ":path": `${MLS_API}/SubscribeGroupMessages`,
        "content-type": "application/grpc",
        te: "trailers",
      });
    } catch (err) {
      this.opts.log.warn("dormancy: could not subscribe", { err });
      this.retry(shard);
      return;
    }
    shard.stream = stream;
    // The new stream replays from the cursors what the old one may have been carrying.
    previous?.close(constants.NGHTTP2_CANCEL);
    const reader = new FrameReader();
    stream.on("data", (chunk: Buffer) => reader.push(chunk, (m) => this.deliver(m)));
    const ended = (why: unknown) => {
      if (shard.stream !== stream) return;
      shard.stream = undefined;
      if (this.closed || shard.groups.size === 0) return;
      this.opts.log.warn("dormancy: the subscription ended; reopening", { err: why, groups: shard.groups.size });
      this.retry(shard);
    };
    stream.on("trailers", (t: IncomingHttpHeaders) =>
      ended(`grpc-status ${String(t["grpc-status"])} ${String(t["grpc-message"] ?? "")}`),
    );
    stream.on("error", ended);
    stream.on("close", () => ended("closed"));
    stream.end(frame(w.finish()));
  }

  private retry(shard: Shard): void {
    setTimeout(() => {
      if (this.closed || shard.stream) return;
      this.subscribe(shard);
    }, this.opts.retryMs ?? 2_000).unref();
  }

  private deliver(bytes: Uint8Array): void {
    const m = readGroupMessage(bytes);
    if (!m) return;
    const w = this.watched.get(m.groupId);
    if (!w || m.id <= w.cursor) return;
    w.cursor = m.id;
    // A commit (a member added or removed, a key update) asks nothing of the agent.
    if (m.isCommit) return;
    this.unwatch(m.groupId);
    w.onMessage();
  }

  private unary(method: string, request: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let stream: ClientHttp2Stream;
      try {
        stream = this.connection().request({
          ":method": "POST",
          ":path": `${MLS_API}/${method}`,
          "content-type": "application/grpc",
          te: "trailers",
        });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const reader = new FrameReader();
      let reply: Uint8Array | undefined;
      let status: string | undefined;
      let message = "";
      stream.setTimeout(10_000, () => stream.close(constants.NGHTTP2_CANCEL));
      stream.on("response", (h) => {
        if (h["grpc-status"] !== undefined)
          [status, message] = [String(h["grpc-status"]), String(h["grpc-message"] ?? "")];
      });
      stream.on("data", (chunk: Buffer) => reader.push(chunk, (m) => (reply = m)));
      stream.on("trailers", (t: IncomingHttpHeaders) => {
        [status, message] = [String(t["grpc-status"]), String(t["grpc-message"] ?? "")];
      });
      stream.on("error", reject);
      stream.on("close", () => {
        if (status === "0") resolve(reply ?? new Uint8Array());
        else reject(new Error(`${method}: grpc-status ${status ?? "none"} ${decodeURIComponent(message)}`));
      });
      stream.end(frame(request));
    });
  }
}

/**
 * Agents a sweep puts to sleep at once. A sleep waits on the XMTP node (the
 * newest message, a last sync) and closes a client: one at a time, a sweep
 * put about one agent a second to sleep on a loaded machine, fewer than fell
 * quiet while thousands joined, so awake agents piled up (bench/live-agents.ts).
 */
export const SWEEP_CONCURRENCY = 8;

/**
 * Puts the host's quiet agents to sleep: every `afterMs / 4` (at most 30 s),
 * SWEEP_CONCURRENCY at a time, each that has been quiet `afterMs`.
 */
export class DormancySweep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly afterMs: number,
    private readonly agents: () => Iterable<{ sleepIfQuiet(afterMs: number): Promise<boolean> }>,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.afterMs <= 0) return;
    const every = Math.max(50, Math.min(this.afterMs / 4, 30_000));
    this.timer = setInterval(() => {
      this.running ??= this.sweep().finally(() => (this.running = undefined));
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over the agents (the timer's; tests call it). */
  async sweep(): Promise<void> {
    let slept = 0;
    await forEachLimited([...this.agents()], SWEEP_CONCURRENCY, async (agent) => {
      if (this.stopped) return;
      try {
        if (await agent.sleepIfQuiet(this.afterMs)) slept++;
      } catch (err) {
        this.log.warn("an agent could not go dormant", { err });
      }
    });
    if (slept > 0) this.log.info("agents went dormant", { count: slept });
  }
}

/** Ten minutes: a conversation that paused for lunch wakes its agent; one that ended lets it sleep. */
export const DEFAULT_DORMANT_AFTER_MS = 10 * 60 * 1000;

/** A host's dormancy: its agents' options, and the sweep to start once they are back. */
export function hostDormancy(opts: {
  afterMs: number;
  apiUrl: string;
  agents: () => Iterable<{ sleepIfQuiet(afterMs: number): Promise<boolean> }>;
  log: Logger;
}): { options: DormancyOptions | undefined; start(): void; close(): Promise<void> } {
  if (opts.afterMs <= 0) return { options: undefined, start: () => undefined, close: async () => undefined };
  const watch = new GroupWatch({ apiUrl: opts.apiUrl, log: opts.log });
  const sweep = new DormancySweep(opts.afterMs, opts.agents, opts.log);
  return {
    options: { afterMs: opts.afterMs, watch },
    start: () => sweep.start(),
    async close() {
      await sweep.stop();
      await watch.close();
    },
  };
}
