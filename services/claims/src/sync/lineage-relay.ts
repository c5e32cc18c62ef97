// Hands the lineage outbox (migrations 0005, 0020 and 0031: every claimed
// agent, every agent that ended, every change of owner, version or pin,
// every conversation an agent joined or left, written by a trigger in the
// transaction of the change) to the lineage service, in sequence order, until
// acknowledged. A pass is one transaction: it takes a PostgreSQL advisory
// lock, so one replica of the claims service relays at a time and order is
// kept; it reads a batch, calls RecordLineageEvents, and deletes what was
// sent. A failed call rolls the pass back: the rows stay for the next pass,
// after a backoff. The lineage service applies each sequence once, so a
// batch sent twice (an answer lost) does no harm; it remembers each sequence,
// not the highest, since a sequence is taken before its transaction commits
// and a lower one can show up after a higher one was relayed.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  AgentClaimedSchema,
  AgentConversationJoinedSchema,
  AgentConversationLeftSchema,
  AgentEndedSchema,
  AgentOwnerChangedSchema,
  AgentVersionChangedSchema,
  LineageEventSchema,
  LineageEventService,
  type LineageEvent,
} from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { createServiceClient, type ClientCredentials, type Logger } from "@convos-pool/kit/server";

/** Names the advisory lock of a relay pass (hashed as holdings.ts names its locks). */
export const RELAY_LOCK = "convos-pool/lineage-relay";

export interface LineageRelayOptions {
  em: EntityManager;
  lineageUrl: string;
  credentials: ClientCredentials;
  log: Logger;
  /** Rows per call; default 200. */
  batch?: number;
  /** How often it looks without a kick; default 1 s. */
  intervalMs?: number;
  /** After a failure: doubling from initialMs up to maxMs; default 1 s to 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  callTimeoutMs?: number;
}

export interface LineageRelay {
  /** Look now (after a change). */
  kick(): void;
  /** Resolves when the outbox is empty (tests). */
  drained(): Promise<void>;
  /** Resolves once a pass that began after this call is over, whatever it found; skips any backoff (tests). */
  passed(): Promise<void>;
  close(): Promise<void>;
}

export interface OutboxRow {
  sequence: string;
  kind: "claimed" | "ended" | "owner_changed" | "version_changed" | "conversation_joined" | "conversation_left";
  instance_id: string;
  payload: Record<string, string | boolean> | string;
  at: Date | string;
}

/** An outbox row as the event the lineage service takes. */
export function toEvent(r: OutboxRow): LineageEvent {
  const payload = (typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>;
  // A field an older row lacks is empty (AgentClaimed.version, for one).
  const text = (k: string): string => {
    const v = payload[k];
    return typeof v === "string" ? v : "";
  };
  const base = { sequence: BigInt(r.sequence), at: timestampFromDate(new Date(r.at)) };
  if (r.kind === "claimed") {
    return create(LineageEventSchema, {
      ...base,
      event: {
        case: "claimed",
        value: create(AgentClaimedSchema, {
          instanceId: r.instance_id,
          templateId: text("templateId"),
          ownerId: text("ownerId"),
          parentInstanceId: text("parentInstanceId"),
          conversationId: text("conversationId"),
          carry: text("carry") ? text("carry").split(",") : [],
          inboxId: text("inboxId"),
          version: text("version"),
        }),
      },
    });
  }
  if (r.kind === "ended") {
    return create(LineageEventSchema, {
      ...base,
      event: { case: "ended", value: create(AgentEndedSchema, { instanceId: r.instance_id, reason: text("reason") }) },
    });
  }
  if (r.kind === "version_changed") {
    return create(LineageEventSchema, {
      ...base,
      event: {
        case: "versionChanged",
        value: create(AgentVersionChangedSchema, {
          instanceId: r.instance_id,
          version: text("version"),
          pinned: payload.pinned === true,
        }),
      },
    });
  }
  if (r.kind === "conversation_joined" || r.kind === "conversation_left") {
    const value = { instanceId: r.instance_id, conversationId: text("conversationId"), home: payload.home === true };
    return create(LineageEventSchema, {
      ...base,
      event:
        r.kind === "conversation_joined"
          ? { case: "conversationJoined", value: create(AgentConversationJoinedSchema, value) }
          : { case: "conversationLeft", value: create(AgentConversationLeftSchema, value) },
    });
  }
  return create(LineageEventSchema, {
    ...base,
    event: {
      case: "ownerChanged",
      value: create(AgentOwnerChangedSchema, { instanceId: r.instance_id, ownerId: text("ownerId") }),
    },
  });
}

export function startLineageRelay(opts: LineageRelayOptions): LineageRelay {
  const batch = opts.batch ?? 200;
  const backoff = opts.backoff ?? { initialMs: 1_000, maxMs: 30_000 };
  const lineage = createServiceClient(LineageEventService, opts.lineageUrl, opts.credentials);
  const aborter = new AbortController();
  let running: Promise<void> | undefined;
  let again = false;
  let failures = 0;
  let retryAt = 0;
  let closed = false;
  /** Passes begun; and who waits for a pass past a number of them (passed()). */
  let begun = 0;
  const waiters = new Set<{ after: number; resolve: () => void }>();

  /** One pass; true when it sent a full batch (more may wait). */
  async function pass(): Promise<boolean> {
    return opts.em.fork().transactional(async (tx) => {
      const [lock] = await tx.execute<{ ok: boolean }[]>(
        `select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as ok`,
        [RELAY_LOCK],
      );
      if (!lock?.ok) return false; // another replica is relaying
      const rows = await tx.execute<OutboxRow[]>(
        `select sequence, kind, instance_id, payload, at from lineage_outbox order by sequence limit ?`,
        [batch],
      );
      if (rows.length === 0) return false;
      const res = await lineage.client.recordLineageEvents(
        { events: rows.map(toEvent) },
        { timeoutMs: opts.callTimeoutMs ?? 10_000, signal: aborter.signal },
      );
      // Exactly what was sent: a lower sequence whose transaction commits only now is not in this batch.
      await tx.execute(`delete from lineage_outbox where sequence in (?)`, [rows.map((r) => r.sequence)], "run");
      opts.log.debug("lineage events relayed", { events: rows.length, applied: res.applied });
      return rows.length === batch;
    });
  }

  async function run(): Promise<void> {
    do {
      again = false;
      if (closed || (Date.now() < retryAt && waiters.size === 0)) return;
      const n = ++begun;
      try {
        if (await pass()) again = true;
        failures = 0;
      } catch (err) {
        if (closed) return;
        failures++;
        const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
        retryAt = Date.now() + delay;
        opts.log.warn("lineage relay failed; the events stay in the outbox", {
          failures,
          retryInMs: delay,
          error: ConnectError.from(err).message,
        });
      } finally {
        for (const w of waiters) {
          if (w.after >= n) continue;
          waiters.delete(w);
          w.resolve();
        }
      }
    } while (again && !closed);
  }

  function kick(): void {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = run().finally(() => {
      running = undefined;
      if (again) kick();
    });
  }

  const timer = setInterval(kick, opts.intervalMs ?? 1_000);
  timer.unref();
  kick();

  return {
    kick,
    async drained() {
      for (;;) {
        const [r] = await opts.em.fork().execute<{ n: string }[]>(`select count(*) as n from lineage_outbox`);
        if (Number(r?.n) === 0) return;
        retryAt = 0;
        kick();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    passed() {
      if (closed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        waiters.add({ after: begun, resolve });
        kick();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      aborter.abort();
      await running;
      lineage.close();
      // No pass comes any more.
      for (const w of waiters) w.resolve();
      waiters.clear();
    },
  };
}
