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
import {
  type RolloutBoundsSchema,
  RolloutPauseCheck,
  RolloutWatchSchema,
  type RolloutWatch,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import {
  RolloutWatchService,
  type WatchRolloutRequest,
  WatchRolloutRequestSchema,
} from "@convos-pool/gen/convos/pool/v1/rollout_watch_service_pb.js";
import { fieldViolations, haltAt, randomId } from "@convos-pool/kit/content";
import { createServiceClient, generateServiceCredentials, type ServiceClient } from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { startLineageService, type RunningLineageService } from "../server.js";
import { REMOVED_BY_OWNER } from "./lifecycle.js";

const creds = generateServiceCredentials();
let service: RunningLineageService;
let db: pg.Client;
let databaseUrl = "";
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
  o: { conversationId?: string; at?: Date; ownerId?: string } = {},
): Promise<string> {
  const instanceId = `inst_${randomBytes(8).toString("hex")}`;
  await feed(
    {
      case: "claimed",
      value: {
        instanceId,
        templateId,
        ownerId: o.ownerId ?? randomBytes(32).toString("hex"),
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
  persons: readonly { person: string; answers: number; thumbsDown: number; corrections: number }[] = [],
): Promise<void> {
  await db.query(
    `insert into version_signals (instance_id, day, template_id, version, answers, people, thumbs_up, thumbs_down,
       corrections, forget_requests, approvals_asked, approvals_declined, tool_calls_failed, pauses, stop_requests,
       persons)
     values ($1, $2::date, $3, $4, $5, 3, 0, $6, 0, 0, 0, 0, 0, $7, 0, $8::jsonb)`,
    [
      instanceId,
      daysAgo(n),
      templateId,
      version,
      counts.answers,
      counts.thumbsDown ?? 0,
      counts.pauses ?? 0,
      JSON.stringify(persons),
    ],
  );
}

/** What a test changes of the request: its fields, the bounds as the contract's init. */
type Over = Partial<
  Pick<WatchRolloutRequest, "templateId" | "candidateVersion" | "fromDay" | "creatorId" | "shareBasisPoints">
> & {
  bounds?: MessageInitShape<typeof RolloutBoundsSchema>;
};

const ask = (templateId: string, over: Over = {}) =>
  watchSc.client.watchRollout(
    create(WatchRolloutRequestSchema, {
      templateId,
      candidateVersion: CANDIDATE,
      baselineVersion: BASELINE,
      fromDay: daysAgo(3),
      ...over,
    }),
  );

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
  databaseUrl = await createTestDatabase("rollout_watch_lineage");
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
  it("halts a candidate with far more 👎 over twelve conversations with real use on each side, naming thumbs_down, and names nobody", async () => {
    const t = randomId("tmpl");
    const { candidate, baseline } = await agents(t, 12);
    for (const n of [3, 2, 1, 0]) {
      for (const a of candidate) await day(a, t, CANDIDATE, n, { answers: 20, thumbsDown: 4 });
      for (const a of baseline) await day(a, t, BASELINE, n, { answers: 20, thumbsDown: 1 });
    }
    const res = await ask(t, { creatorId: "someone-else", shareBasisPoints: 5_000 });
    expect(res.halt).toBe(true);
    expect(res.pause).toBe(false);
    const w = res.watch!;
    expect(w.haltedOn).toBe("👎 on its answers");
    expect(w.pausedOn).toBe("");
    expect(w.pauseCheck).toBe(RolloutPauseCheck.UNSPECIFIED);
    expect(w.daysCounted).toBe(4);
    expect(w.threshold).toBeCloseTo(haltAt(0.05));
    expect({ c: w.candidateSample, b: w.baselineSample, min: w.minSample }).toEqual({ c: 12, b: 12, min: 10 });
    // Each conversation's 4 in 20 a day count 3 in 15 (kit MAX_SOURCE_DAY_EVENTS); one conversation on each side left out.
    expect(figuresOf(w, "thumbs_down")).toMatchObject({
      candidateEvents: 132,
      candidateExposure: 660,
      baselineEvents: 44,
      baselineExposure: 880,
    });
    expect(figuresOf(w, "thumbs_down")?.evidence).toBeGreaterThan(w.threshold);
    // Pauses against one per agent-day reported; nothing else happened.
    expect(figuresOf(w, "pauses")).toMatchObject({ candidateEvents: 0, candidateExposure: 44, baselineExposure: 44 });
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
    // Today's conversations on each side: all twelve, none left out.
    expect({ c: w.candidateConversations, b: w.baselineConversations }).toEqual({ c: 12, b: 12 });
    const text = toJsonString(RolloutWatchSchema, w);
    for (const id of [...candidate, ...baseline]) {
      expect(text).not.toContain(id);
      expect(text).not.toContain(`conv-${id}`);
    }
  });

  it("counts a person once a side and day across conversations: one member's 👎 on every answer in six of the new version's conversations does not halt an equal version", async () => {
    const t = randomId("tmpl");
    const { candidate, baseline } = await agents(t, 12);
    const person = (who: string, n: number) => `${who}${n}`.padEnd(64, "0");
    for (const n of [3, 2, 1, 0]) {
      for (const [i, a] of [...candidate, ...baseline].entries()) {
        const version = i < 12 ? CANDIDATE : BASELINE;
        const loud = i < 6;
        const persons = [
          { person: person(`a${i}x`, n), answers: 10, thumbsDown: 1, corrections: 0 },
          { person: person(`b${i}x`, n), answers: 10, thumbsDown: 0, corrections: 0 },
          ...(loud ? [{ person: person("f", n), answers: 20, thumbsDown: 20, corrections: 0 }] : []),
        ];
        await day(a, t, version, n, { answers: loud ? 40 : 20, thumbsDown: loud ? 21 : 1 }, persons);
      }
    }
    const res = await ask(t, { creatorId: "someone-else" });
    expect(res.halt).toBe(false);
    // The member's 480 👎 count one a day; the side's first one-event source of the day left out.
    expect(figuresOf(res.watch, "thumbs_down")).toMatchObject({
      candidateEvents: 48 + 4 - 1,
      candidateExposure: 960 + 4 - 10,
    });
  });

  it("leaves the creator's own agents out: their 👎 on the current version hide no worse candidate", async () => {
    const t = randomId("tmpl");
    const creator = randomBytes(32).toString("hex");
    const { candidate, baseline } = await agents(t, 12);
    const own: string[] = [];
    for (let i = 0; i < 3; i++) own.push(await agent(t, BASELINE, { ownerId: creator }));
    for (const n of [3, 2, 1, 0]) {
      for (const a of candidate) await day(a, t, CANDIDATE, n, { answers: 20, thumbsDown: 4 });
      for (const a of baseline) await day(a, t, BASELINE, n, { answers: 20, thumbsDown: 1 });
      for (const a of own) await day(a, t, BASELINE, n, { answers: 20, thumbsDown: 20 });
    }
    const res = await ask(t, { creatorId: creator });
    expect(res.halt).toBe(true);
    expect(res.watch?.baselineSample).toBe(12);
  });

  it("pauses, without halting, when today's split is off the planned share", async () => {
    const t = randomId("tmpl");
    const { candidate, baseline } = await agents(t, 24);
    for (const n of [3, 2, 1, 0]) {
      for (const a of candidate) await day(a, t, CANDIDATE, n, { answers: 20, thumbsDown: 4 });
      for (const a of baseline) await day(a, t, BASELINE, n, { answers: 20, thumbsDown: 1 });
    }
    const res = await ask(t, { shareBasisPoints: 1_000 });
    expect({ halt: res.halt, pause: res.pause }).toEqual({ halt: false, pause: true });
    expect(res.watch?.pausedOn).toBe(
      "the split of conversations with real use: 24 of 48 on the new version, 50% against the 10% planned",
    );
    expect(res.watch?.pauseCheck).toBe(RolloutPauseCheck.SPLIT);
  });

  it("is not halted by one flooded conversation, on either side", async () => {
    const t = randomId("tmpl");
    const { candidate, baseline } = await agents(t, 12);
    for (const n of [3, 2, 1, 0]) {
      for (const [i, a] of candidate.entries())
        await day(a, t, CANDIDATE, n, { answers: 20, thumbsDown: i === 0 ? 200 : 1 });
      for (const a of baseline) await day(a, t, BASELINE, n, { answers: 20, thumbsDown: 1 });
    }
    const res = await ask(t);
    expect(res.halt).toBe(false);
    expect(res.watch?.haltedOn).toBe("");
    expect(figuresOf(res.watch, "thumbs_down")).toMatchObject({ candidateEvents: 44, baselineEvents: 44 });
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
    // Three more candidate conversations on one day of the rollout: that day, and only it, counts. Their real
    // use is read from before the rollout too (two days before its first).
    for (let i = 0; i < 3; i++) {
      const a = await agent(t, CANDIDATE);
      for (const n of [5, 4, 1]) await day(a, t, CANDIDATE, n, { answers: 20 });
    }
    expect((await ask(t)).watch?.daysCounted).toBe(1);
  });

  it("does not halt two versions that do alike", async () => {
    const t = randomId("tmpl");
    const { candidate, baseline } = await agents(t, 12);
    for (const n of [3, 2, 1, 0]) {
      for (const [i, a] of candidate.entries())
        await day(a, t, CANDIDATE, n, { answers: 30, thumbsDown: i % 3, pauses: i === n ? 1 : 0 });
      for (const [i, a] of baseline.entries())
        await day(a, t, BASELINE, n, { answers: 30, thumbsDown: i % 3, pauses: i === n ? 1 : 0 });
    }
    const res = await ask(t);
    expect(res.halt).toBe(false);
    expect(res.watch?.daysCounted).toBe(4);
    expect(res.pause).toBe(false);
    for (const s of res.watch?.signals ?? []) expect(s.evidence).toBeLessThan(res.watch!.threshold);
  });

  it("counts removals within a day of a claim once per owner with real use, for the version the agent ran when removed", async () => {
    const t = randomId("tmpl");
    const start = Date.parse(`${daysAgo(0)}T00:00:00Z`);
    const at = (minutes: number) => new Date(start + minutes * 60_000);
    // Twelve owners with real use on each side (an agent each, used three days), and one free inbox.
    const owners = Array.from({ length: 24 }, () => randomBytes(32).toString("hex"));
    const used: string[] = [];
    for (const [i, ownerId] of owners.entries()) {
      const version = i < 12 ? CANDIDATE : BASELINE;
      const a = await agent(t, version, { ownerId });
      for (const n of [3, 2, 1, 0]) await day(a, t, version, n, { answers: 20 });
      used.push(a);
    }
    // Today three of the candidate's owners each claim two more agents (on the baseline, moved a minute later)
    // and remove both within the day; a free inbox claims and removes ten.
    const free = randomBytes(32).toString("hex");
    const fresh: { id: string; ownerId: string }[] = [];
    for (const ownerId of [...owners.slice(0, 3), ...owners.slice(0, 3), ...Array(10).fill(free)]) {
      const a = await agent(t, BASELINE, { at: at(1), ownerId });
      await feed({ case: "versionChanged", value: { instanceId: a, version: CANDIDATE, pinned: false } }, at(2));
      fresh.push({ id: a, ownerId });
    }
    for (const a of fresh) await feed({ case: "ended", value: { instanceId: a.id, reason: REMOVED_BY_OWNER } }, at(3));
    const res = await ask(t, { fromDay: daysAgo(3) });
    // Three owners, not six claims nor the free inbox's ten; each side's largest source left out: two of three.
    expect(figuresOf(res.watch, "removals")).toMatchObject({ candidateEvents: 2, baselineEvents: 0 });
    expect(res.halt).toBe(false);
  });

  it("takes a stack's watch rules from its options: one owner's agents with a day of use halt there, and not on the pool's rules", async () => {
    const t = randomId("tmpl");
    const owner = randomBytes(32).toString("hex");
    const candidate: string[] = [];
    const baseline: string[] = [];
    for (let i = 0; i < 6; i++) {
      candidate.push(await agent(t, CANDIDATE, { ownerId: owner }));
      baseline.push(await agent(t, BASELINE, { ownerId: owner }));
    }
    // One day, one owner of twelve agents: out of the pool's watch, and a sample of six is below its ten.
    for (const a of candidate) await day(a, t, CANDIDATE, 0, { answers: 20, thumbsDown: 10 });
    for (const a of baseline) await day(a, t, BASELINE, 0, { answers: 20, thumbsDown: 0 });
    const pools = await ask(t, { fromDay: daysAgo(0), bounds: { thumbsDown: 3 } });
    expect({ halt: pools.halt, daysCounted: pools.watch?.daysCounted, min: pools.watch?.minSample }).toEqual({
      halt: false,
      daysCounted: 0,
      min: 10,
    });
    const demo = await startLineageService({
      databaseUrl,
      credentials: creds.lineage,
      templatesUrl: "http://127.0.0.1:9",
      watchRules: { maxOwnerAgents: 100, realUseDays: 0, minSample: { conversations: 5, answers: 60 } },
    });
    const sc = createServiceClient(RolloutWatchService, demo.url, creds.templates);
    try {
      const res = await sc.client.watchRollout(
        create(WatchRolloutRequestSchema, {
          templateId: t,
          candidateVersion: CANDIDATE,
          baselineVersion: BASELINE,
          fromDay: daysAgo(0),
          bounds: { thumbsDown: 3 },
        }),
      );
      expect({ halt: res.halt, haltedOn: res.watch?.haltedOn, min: res.watch?.minSample }).toEqual({
        halt: true,
        haltedOn: "👎 on its answers",
        min: 5,
      });
      expect({ c: res.watch?.candidateSample, b: res.watch?.baselineSample }).toEqual({ c: 6, b: 6 });
    } finally {
      sc.close();
      await demo.close();
    }
  });

  it("refuses to start on a watch rule that is not a whole number, naming it", async () => {
    await expect(
      startLineageService({
        databaseUrl,
        credentials: creds.lineage,
        templatesUrl: "http://127.0.0.1:9",
        watchRules: { realUseDays: -1 },
      }),
    ).rejects.toThrow(/realUseDays must be a whole number >= 0/);
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
    const refused = async (over: Over) =>
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
