// RolloutWatchService (docs/rollouts.md, "It watches and stops itself") over
// gRPC on real PostgreSQL. Agents arrive as the claims service's relay feeds
// them (claims on a version, version changes, removals, at the times given);
// their signed day counts are written straight into `version_signals`, as
// the activity test does: what a report carries is checked elsewhere
// (service.int.test.ts), and here only what is stored counts. The templates
// service is not asked by this RPC: its URL goes nowhere.
import { randomBytes } from "node:crypto";
import { create, type MessageInitShape, toJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LineageEventSchema, LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { RolloutWatchSchema, type RolloutWatch } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import {
  RolloutWatchService,
  type WatchRolloutRequestSchema,
} from "@convos-pool/gen/convos/pool/v1/rollout_watch_service_pb.js";
import { fieldViolations, haltAt, randomId } from "@convos-pool/kit/content";
import { createServiceClient, generateServiceCredentials, type ServiceClient } from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { startLineageService, type RunningLineageService } from "../server.js";
import { REMOVED_BY_OWNER } from "./lifecycle.js";

const creds = generateServiceCredentials();
let service: RunningLineageService;
let db: pg.Client;
let feedSc: ServiceClient<typeof LineageEventService>;
let watchSc: ServiceClient<typeof RolloutWatchService>;
let sequence = 9_000n;

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);
const CANDIDATE = "2";
const BASELINE = "1";

async function feed(event: NonNullable<MessageInitShape<typeof LineageEventSchema>["event"]>, at: Date) {
  await feedSc.client.recordLineageEvents({
    events: [create(LineageEventSchema, { sequence: ++sequence, at: timestampFromDate(at), event })],
  });
}

/** An agent of `templateId` claimed on `version` at `at` (five days ago unless told), in a conversation of its own unless told. */
async function agent(
  templateId: string,
  version: string,
  o: { conversationId?: string; at?: Date } = {},
): Promise<string> {
  const instanceId = `inst_${randomBytes(8).toString("hex")}`;
  await feed(
    {
      case: "claimed",
      value: {
        instanceId,
        templateId,
        ownerId: randomBytes(32).toString("hex"),
        conversationId: o.conversationId ?? `conv-${instanceId}`,
        inboxId: randomBytes(32).toString("hex"),
        version,
      },
    },
    o.at ?? new Date(Date.now() - 5 * DAY),
  );
  return instanceId;
}

/** The agent's stored day `n` days ago on `version`: `answers` answers and the counts given, the others 0. */
async function day(
  instanceId: string,
  templateId: string,
  version: string,
  n: number,
  counts: { answers: number; thumbsDown?: number; pauses?: number },
): Promise<void> {
  await db.query(
    `insert into version_signals (instance_id, day, template_id, version, answers, people, thumbs_up, thumbs_down,
       corrections, forget_requests, approvals_asked, approvals_declined, tool_calls_failed, pauses, stop_requests)
     values ($1, $2::date, $3, $4, $5, 3, 0, $6, 0, 0, 0, 0, 0, $7, 0)`,
    [instanceId, daysAgo(n), templateId, version, counts.answers, counts.thumbsDown ?? 0, counts.pauses ?? 0],
  );
}

const ask = (templateId: string, over: Partial<MessageInitShape<typeof WatchRolloutRequestSchema>> = {}) =>
  watchSc.client.watchRollout({
    templateId,
    candidateVersion: CANDIDATE,
    baselineVersion: BASELINE,
    fromDay: daysAgo(3),
    ...over,
  });

/** `n` agents of each version, each in its own conversation. */
async function agents(templateId: string, n: number) {
  const candidate: string[] = [];
  const baseline: string[] = [];
  for (let i = 0; i < n; i++) {
    candidate.push(await agent(templateId, CANDIDATE));
    baseline.push(await agent(templateId, BASELINE));
  }
  return { candidate, baseline };
}

const figuresOf = (w: RolloutWatch | undefined, signal: string) => w?.signals.find((s) => s.signal === signal);

beforeAll(async () => {
  const databaseUrl = await createTestDatabase("rollout_watch_lineage");
  service = await startLineageService({
    databaseUrl,
    credentials: creds.lineage,
    // WatchRollout never asks the templates service.
    templatesUrl: "http://127.0.0.1:9",
  });
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  feedSc = createServiceClient(LineageEventService, service.url, creds.claims);
  watchSc = createServiceClient(RolloutWatchService, service.url, creds.templates);
}, 60_000);

afterAll(async () => {
  for (const sc of [feedSc, watchSc]) sc?.close();
  await db?.end();
  await service?.close();
});

describe("watching a rollout", () => {
  it("halts a candidate with far more 👎 over six conversations on each side, naming thumbs_down, and names nobody", async () => {
    const t = randomId("tmpl");
    const { candidate, baseline } = await agents(t, 6);
    for (const n of [2, 1, 0]) {
      for (const a of candidate) await day(a, t, CANDIDATE, n, { answers: 20, thumbsDown: 4 });
      for (const a of baseline) await day(a, t, BASELINE, n, { answers: 20, thumbsDown: 1 });
    }
    const res = await ask(t);
    expect(res.halt).toBe(true);
    const w = res.watch!;
    expect(w.haltedOn).toBe("👎 on its answers");
    expect(w.daysCounted).toBe(3);
    expect(w.threshold).toBeCloseTo(haltAt(0.05));
    // One conversation on each side left out: five agents' 20 answers a day for three days.
    expect(figuresOf(w, "thumbs_down")).toMatchObject({
      candidateEvents: 60,
      candidateExposure: 300,
      baselineEvents: 15,
      baselineExposure: 300,
    });
    expect(figuresOf(w, "thumbs_down")?.evidence).toBeGreaterThan(w.threshold);
    // Pauses against one per agent-day reported; nothing else happened.
    expect(figuresOf(w, "pauses")).toMatchObject({ candidateEvents: 0, candidateExposure: 15, baselineExposure: 15 });
    expect(w.signals.map((s) => s.signal).sort()).toEqual(
      [
        "approvals_declined",
        "corrections",
        "pauses",
        "removals",
        "stop_requests",
        "thumbs_down",
        "tool_calls_failed",
      ].sort(),
    );
    expect(w.checkedAt).toBeDefined();
    // Today's conversations on each side: all six, none left out.
    expect({ c: w.candidateConversations, b: w.baselineConversations }).toEqual({ c: 6, b: 6 });
    const text = toJsonString(RolloutWatchSchema, w);
    for (const id of [...candidate, ...baseline]) {
      expect(text).not.toContain(id);
      expect(text).not.toContain(`conv-${id}`);
    }
  });

  it("is not halted by one flooded conversation, on either side", async () => {
    const t = randomId("tmpl");
    const { candidate, baseline } = await agents(t, 6);
    for (const n of [2, 1, 0]) {
      for (const [i, a] of candidate.entries())
        await day(a, t, CANDIDATE, n, { answers: 20, thumbsDown: i === 0 ? 200 : 1 });
      for (const a of baseline) await day(a, t, BASELINE, n, { answers: 20, thumbsDown: 1 });
    }
    const res = await ask(t);
    expect(res.halt).toBe(false);
    expect(res.watch?.haltedOn).toBe("");
    expect(figuresOf(res.watch, "thumbs_down")).toMatchObject({ candidateEvents: 15, baselineEvents: 15 });
  });

  it("counts nothing on a day either version's agents are in fewer than five conversations", async () => {
    const t = randomId("tmpl");
    // Six candidate agents, but in two conversations; six baseline agents in six.
    const candidate: string[] = [];
    for (let i = 0; i < 6; i++) candidate.push(await agent(t, CANDIDATE, { conversationId: `conv-${t}-${i % 2}` }));
    const baseline: string[] = [];
    for (let i = 0; i < 6; i++) baseline.push(await agent(t, BASELINE));
    for (const n of [2, 1, 0]) {
      for (const a of candidate) await day(a, t, CANDIDATE, n, { answers: 20, thumbsDown: 15 });
      for (const a of baseline) await day(a, t, BASELINE, n, { answers: 20, thumbsDown: 0 });
    }
    const res = await ask(t);
    expect(res.halt).toBe(false);
    expect(res.watch?.daysCounted).toBe(0);
    for (const s of res.watch?.signals ?? [])
      expect([s.candidateEvents, s.candidateExposure, s.baselineEvents, s.baselineExposure, s.evidence]).toEqual([
        0, 0, 0, 0, 0,
      ]);
    // Three more candidate conversations on one day: that day, and only it, counts.
    for (let i = 0; i < 3; i++) await day(await agent(t, CANDIDATE), t, CANDIDATE, 1, { answers: 20 });
    expect((await ask(t)).watch?.daysCounted).toBe(1);
  });

  it("does not halt two versions that do alike", async () => {
    const t = randomId("tmpl");
    const { candidate, baseline } = await agents(t, 8);
    for (const n of [3, 2, 1, 0]) {
      for (const [i, a] of candidate.entries())
        await day(a, t, CANDIDATE, n, { answers: 30, thumbsDown: i % 3, pauses: i === n ? 1 : 0 });
      for (const [i, a] of baseline.entries())
        await day(a, t, BASELINE, n, { answers: 30, thumbsDown: i % 3, pauses: i === n ? 1 : 0 });
    }
    const res = await ask(t);
    expect(res.halt).toBe(false);
    expect(res.watch?.daysCounted).toBe(4);
    for (const s of res.watch?.signals ?? []) expect(s.evidence).toBeLessThanOrEqual(0);
  });

  it("counts removals within a day of a claim for the version the agent ran when removed, against the agents that ran", async () => {
    const t = randomId("tmpl");
    const start = Date.parse(`${daysAgo(0)}T00:00:00Z`);
    const at = (minutes: number) => new Date(start + minutes * 60_000);
    // Claimed on the baseline (a new claim during a rollout is), eight moved to the candidate a minute later.
    const candidate: string[] = [];
    const baseline: string[] = [];
    for (let i = 0; i < 8; i++) {
      const a = await agent(t, BASELINE, { at: at(1) });
      await feed({ case: "versionChanged", value: { instanceId: a, version: CANDIDATE, pinned: false } }, at(2));
      candidate.push(a);
      baseline.push(await agent(t, BASELINE, { at: at(1) }));
    }
    for (const a of candidate) await day(a, t, CANDIDATE, 0, { answers: 5 });
    for (const a of baseline) await day(a, t, BASELINE, 0, { answers: 5 });
    // Five candidate agents removed by their owners within the day; a baseline one lost with its host.
    for (const a of candidate.slice(0, 5))
      await feed({ case: "ended", value: { instanceId: a, reason: REMOVED_BY_OWNER } }, at(3));
    await feed({ case: "ended", value: { instanceId: baseline[0]!, reason: "its host is gone" } }, at(3));
    const res = await ask(t, { fromDay: daysAgo(0) });
    // Each side's largest conversation left out: four of the five removals, seven of eight agents that ran.
    expect(figuresOf(res.watch, "removals")).toMatchObject({
      candidateEvents: 4,
      candidateExposure: 7,
      baselineEvents: 0,
      baselineExposure: 7,
    });
  });

  it("answers only the templates service, and names a malformed field", async () => {
    const t = randomId("tmpl");
    for (const who of ["gateway", "claims", "instance-host"] as const) {
      const sc = createServiceClient(RolloutWatchService, service.url, creds[who]);
      try {
        const err = await sc.client
          .watchRollout({ templateId: t, candidateVersion: CANDIDATE, baselineVersion: BASELINE, fromDay: daysAgo(1) })
          .then(
            () => undefined,
            (e: unknown) => ConnectError.from(e),
          );
        expect(err?.code, who).toBe(Code.PermissionDenied);
      } finally {
        sc.close();
      }
    }
    const refused = async (over: Partial<MessageInitShape<typeof WatchRolloutRequestSchema>>) =>
      fieldViolations(
        await ask(t, over).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ).map((v) => v.field);
    expect(await refused({ templateId: "nope" })).toEqual(["template_id"]);
    expect(await refused({ candidateVersion: "2 (base 1)" })).toEqual(["candidate_version"]);
    expect(await refused({ candidateVersion: BASELINE })).toEqual(["candidate_version"]);
    expect(await refused({ fromDay: "2026-02-30" })).toEqual(["from_day"]);
    expect(await refused({ fromDay: daysAgo(-2) })).toEqual(["from_day"]);
    expect(await refused({ bounds: { thumbsDown: 20 } })).toEqual(["bounds.thumbs_down"]);
    expect(await refused({ bounds: { falseAlarm: 0.5 } })).toEqual(["bounds.false_alarm"]);
  });
});
