// The pool's watch over live rollouts (docs/rollouts.md, "It watches and
// stops itself") on a real templates service: PostgreSQL, gRPC, creators'
// signatures made with their keys. Two stand-ins: the claims service
// (test/sync-receiver.ts, recording what it is pushed) and the lineage
// service's RolloutWatchService, a gRPC server of that contract answering
// what each test tells it (the test itself, over real counts, is lineage's:
// services/lineage/src/signals/watch.int.test.ts; the templates package may
// not depend on lineage's). The last test runs two watches, as two replicas
// would, on a database of its own (a templates service there, with no
// watch of its own) with an in-memory stand-in.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RolloutAction,
  RolloutBoundsSchema,
  RolloutService,
  RolloutSignalFiguresSchema,
  RolloutState,
  RolloutWatchSchema,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import {
  RolloutWatchService,
  type WatchRolloutRequest,
  WatchRolloutResponseSchema,
} from "@convos-pool/gen/convos/pool/v1/rollout_watch_service_pb.js";
import { TemplateChange } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { contentFromJson, jsonHash } from "@convos-pool/kit/content";
import {
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  serviceAuthInterceptor,
  startServer,
  type RunningServer,
} from "@convos-pool/kit/server";
import { openDatabase } from "@convos-pool/kit/service";
import {
  DerivedInboxResolver,
  LOCAL_POOL_ID,
  rolloutBoundsHash,
  rolloutBoundsJson,
  SignatureVerifier,
  signOperation,
  verifyTemplateRelease,
} from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { TemplateRow, TemplateVersionRow } from "../db/entities.js";
import { migrations } from "../db/migrations.js";
import { startTemplateService, type RunningTemplateService } from "../server.js";
import { as } from "../../test/helpers.js";
import { Receiver } from "../../test/sync-receiver.js";
import { startRolloutWatch } from "./watch.js";

const CREDS = generateServiceCredentials();
const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
const BASELINE = sampleContent();
const CANDIDATE = sampleContent({ instructions: "You plan trips, and you ask about the budget first." });
const SIGNALS = [
  "removals",
  "pauses",
  "stop_requests",
  "thumbs_down",
  "corrections",
  "tool_calls_failed",
  "approvals_declined",
];

type Answer = MessageInitShape<typeof WatchRolloutResponseSchema> | "unavailable";

/** Lineage's RolloutWatchService as a stand-in: per template, what the test told it (by default: all alike, go on). */
class LineageStandIn {
  answers = new Map<string, Answer>();
  /** What a template the test has told nothing of gets: set before a rollout starts, its first round's answer. */
  otherwise: Answer = { watch: figures(0, 0, 0), halt: false };
  asked: WatchRolloutRequest[] = [];
  server!: RunningServer;

  async start(): Promise<this> {
    this.server = await startServer({
      name: "lineage-stand-in",
      log: createLogger("lineage-stand-in", { level: "silent" }),
      interceptors: [
        serviceAuthInterceptor(CREDS.lineage.directory, { [RolloutWatchService.typeName]: ["templates"] }),
      ],
      routes: (router) =>
        router.service(RolloutWatchService, {
          watchRollout: (req) => {
            this.asked.push(req);
            const a = this.answers.get(req.templateId) ?? this.otherwise;
            if (a === "unavailable") throw new ConnectError("lineage database unavailable", Code.Unavailable);
            return a;
          },
        }),
    });
    return this;
  }

  askedFor(templateId: string): WatchRolloutRequest[] {
    return this.asked.filter((r) => r.templateId === templateId);
  }
}

/** A watch of three days: 👎 `candidate` against `baseline` in 300 answers each; the others all zero. */
function figures(candidate: number, baseline: number, evidence: number, haltedOn = "") {
  return create(RolloutWatchSchema, {
    daysCounted: 3,
    threshold: Math.log(7 / 0.05),
    signals: SIGNALS.map((signal) =>
      create(RolloutSignalFiguresSchema, {
        signal,
        ...(signal === "thumbs_down"
          ? {
              candidateEvents: candidate,
              candidateExposure: 300,
              baselineEvents: baseline,
              baselineExposure: 300,
              evidence,
            }
          : {}),
      }),
    ),
    checkedAt: timestampFromDate(new Date()),
    haltedOn,
    candidateConversations: 7,
    baselineConversations: 13,
  });
}

let receiver: Receiver;
let lineage: LineageStandIn;
let service: RunningTemplateService;
let databaseUrl: string;
let templates: Client<typeof TemplateService>;
let rollouts: Client<typeof RolloutService>;

beforeAll(async () => {
  receiver = await new Receiver(CREDS.claims).start();
  lineage = await new LineageStandIn().start();
  databaseUrl = await createTestDatabase("templates_rollout_watch");
  service = await startTemplateService({
    databaseUrl,
    credentials: CREDS.templates,
    sync: { claimsUrl: receiver.server.url, intervalMs: 100, backoff: { initialMs: 100, maxMs: 400 } },
    lineageUrl: lineage.server.url,
    watch: { intervalMs: 150 },
  });
  templates = createServiceClient(TemplateService, service.url, CREDS.gateway).client;
  rollouts = createServiceClient(RolloutService, service.url, CREDS.gateway).client;
});

afterAll(async () => {
  await service?.close();
  await lineage?.server.close();
  await receiver?.server.close();
});

/**
 * A new creator's private template at version 1 (BASELINE), or public at
 * version 2 (its publish), and their signed start of CANDIDATE at 10%.
 */
async function started(bounds: { thumbsDown?: number } = {}, on = { templates, rollouts }, visibility = "private") {
  const { templates, rollouts } = on;
  const c: TestIdentity = newIdentity();
  const t = await signedTemplate(templates, c, BASELINE, visibility as "private" | "public");
  const v = t.version;
  const base = { inboxId: c.inboxId, templateId: t.id };
  const res = await rollouts.startRollout(
    {
      templateId: t.id,
      expectedVersion: v,
      content: contentFromJson(CANDIDATE),
      signature: await signOperation(c.account, "UpdateTemplate", {
        ...base,
        version: v,
        contentHash: jsonHash(CANDIDATE),
      }),
      shareBasisPoints: 1_000,
      bounds: create(RolloutBoundsSchema, bounds),
      fallbackSignature: await signOperation(c.account, "RollbackTemplate", {
        ...base,
        version: v + 1n,
        targetVersion: v,
        contentHash: jsonHash(BASELINE),
      }),
      stepSignature: await signOperation(c.account, "RolloutStep", {
        ...base,
        version: v + 1n,
        action: RolloutAction.START,
        shareBasisPoints: 1_000,
        boundsHash: rolloutBoundsHash(rolloutBoundsJson(bounds)),
      }),
    },
    as(c),
  );
  return { c, t, r: res.rollout! };
}

const read = async (c: TestIdentity, templateId: string, rolloutId: string, on = rollouts) =>
  (await on.getRollout({ templateId, rolloutId }, as(c))).rollout!;

describe("the pool's watch", () => {
  it("halts a rollout whose new version does far worse, says why, and makes and pushes the fallback", async () => {
    const { c, t, r } = await started({ thumbsDown: 0.25 });
    lineage.answers.set(t.id, { watch: figures(60, 15, 7.61, "👎 on its answers"), halt: true });
    await waitFor("the halt", async () => (await read(c, t.id, r.rolloutId)).state === RolloutState.HALTED);

    // Asked with the release keys its agents report, from the rollout's first day, with its bounds.
    const [asked] = lineage.askedFor(t.id);
    expect(asked).toMatchObject({
      candidateVersion: "2",
      baselineVersion: "1",
      fromDay: new Date().toISOString().slice(0, 10),
    });
    expect(asked?.bounds).toMatchObject({ thumbsDown: 0.25, removals: 0.5, falseAlarm: 0.05 });

    const got = await read(c, t.id, r.rolloutId);
    expect(got.steps.at(-1)?.action).toBe(RolloutAction.HALT);
    expect(got.watch?.haltedOn).toBe(
      "👎 on its answers: 60 in 300 answers on version 2, against 15 in 300 on version 1 (evidence 7.61, past the threshold 4.94, over 3 days)",
    );
    expect(got.watch?.daysCounted).toBe(3);
    expect(got.watch?.signals.find((s) => s.signal === "thumbs_down")).toMatchObject({
      candidateEvents: 60,
      baselineEvents: 15,
      evidence: 7.61,
    });
    expect(got.watch?.checkedAt).toBeDefined();
    // The fallback: version 3, the baseline's content, signed by the creator at the start, pushed to every agent.
    expect((await templates.getTemplate({ templateId: t.id }, as(c))).template?.version).toBe(3n);
    await waitFor("the fallback's push", () => receiver.of(t.id).some((p) => p.version === 3n));
    const push = receiver.of(t.id).find((p) => p.version === 3n)!;
    expect(push.change).toBe(TemplateChange.ROLLBACK);
    expect(await verifyTemplateRelease(verifier, push, { templateId: t.id, creatorId: c.inboxId })).toBe(
      c.account.address,
    );
    // Ended: no longer watched.
    const before = lineage.askedFor(t.id).length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(lineage.askedFor(t.id).length).toBe(before);
  });

  it("asks for the content a published template's agents run: its publish, version 2, changed none", async () => {
    const { t, r } = await started({}, undefined, "public");
    expect({ baseline: r.baselineVersion, candidate: r.candidateVersion }).toEqual({ baseline: 2n, candidate: 3n });
    await waitFor("the watch to ask", () => lineage.askedFor(t.id).length > 0);
    expect(lineage.askedFor(t.id)[0]).toMatchObject({ candidateVersion: "3", baselineVersion: "1" });
  });

  it("keeps a rollout that does as well running, its watch recorded and renewed", async () => {
    const { c, t, r } = await started();
    lineage.answers.set(t.id, { watch: figures(15, 15, -0.6), halt: false });
    await waitFor("the watch", async () => (await read(c, t.id, r.rolloutId)).watch !== undefined);
    const got = await read(c, t.id, r.rolloutId);
    expect(got.state).toBe(RolloutState.RUNNING);
    expect(got.watch?.haltedOn).toBe("");
    expect(got.watch?.signals.map((s) => s.signal)).toEqual(SIGNALS);
    // The conversations it reaches, as the watch counted them.
    expect({ all: got.conversations, in: got.conversationsIn }).toEqual({ all: 20, in: 7 });
    // Listed with it too; and watched again the next round.
    const listed = await rollouts.listRollouts({ templateId: t.id }, as(c));
    expect(listed.rollouts[0]?.watch?.daysCounted).toBe(3);
    lineage.answers.set(t.id, { watch: figures(16, 15, -0.5), halt: false });
    await waitFor(
      "the next round's watch",
      async () =>
        (await read(c, t.id, r.rolloutId)).watch?.signals.find((s) => s.signal === "thumbs_down")?.candidateEvents ===
        16,
    );
    expect((await read(c, t.id, r.rolloutId)).state).toBe(RolloutState.RUNNING);
  });

  it("keeps a rollout the watch pauses where it is: asked with its creator and planned share, the reason kept, no widening, no halt", async () => {
    const { c, t, r } = await started();
    const reason = "the split of conversations with real use: 24 of 48 on the new version, 50% against the 10% planned";
    lineage.answers.set(t.id, { watch: { ...figures(15, 15, 0), pausedOn: reason }, halt: false, pause: true });
    await waitFor("the watch", async () => (await read(c, t.id, r.rolloutId)).watch?.pausedOn === reason);
    expect(lineage.askedFor(t.id)[0]).toMatchObject({ creatorId: c.inboxId, shareBasisPoints: 1_000 });
    const got = await read(c, t.id, r.rolloutId);
    expect({ state: got.state, share: got.shareBasisPoints }).toEqual({ state: RolloutState.RUNNING, share: 1_000 });
    const widen = await rollouts
      .stepRollout(
        {
          templateId: t.id,
          rolloutId: r.rolloutId,
          action: RolloutAction.WIDEN,
          shareBasisPoints: 5_000,
          signature: await signOperation(c.account, "RolloutStep", {
            inboxId: c.inboxId,
            templateId: t.id,
            version: r.candidateVersion,
            action: RolloutAction.WIDEN,
            shareBasisPoints: 5_000,
            boundsHash: rolloutBoundsHash(rolloutBoundsJson({})),
          }),
        },
        as(c),
      )
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(widen?.code).toBe(Code.FailedPrecondition);
    expect(widen?.rawMessage).toContain(reason);
    expect((await read(c, t.id, r.rolloutId)).shareBasisPoints).toBe(1_000);
  });

  it("changes nothing while lineage does not answer, and asks again next round", async () => {
    // Unavailable from the rollout's start: a round between the start and a per-template answer would record a watch.
    const before = lineage.otherwise;
    lineage.otherwise = "unavailable";
    const { c, t, r } = await started()
      .then((s) => {
        lineage.answers.set(s.t.id, "unavailable");
        return s;
      })
      .finally(() => {
        lineage.otherwise = before;
      });
    await waitFor("two rounds asked", () => lineage.askedFor(t.id).length >= 2);
    const got = await read(c, t.id, r.rolloutId);
    expect(got.state).toBe(RolloutState.RUNNING);
    expect(got.watch).toBeUndefined();
    lineage.answers.set(t.id, { watch: figures(1, 1, 0), halt: false });
    await waitFor("the watch", async () => (await read(c, t.id, r.rolloutId)).watch !== undefined);
  });
});

describe("two replicas", () => {
  it("never watch one rollout at once, and one halts it once", async () => {
    const url = await createTestDatabase("templates_rollout_watch_replicas");
    const unwatched = await startTemplateService({ databaseUrl: url, credentials: CREDS.templates });
    const on = {
      templates: createServiceClient(TemplateService, unwatched.url, CREDS.gateway).client,
      rollouts: createServiceClient(RolloutService, unwatched.url, CREDS.gateway).client,
    };
    const orm = await openDatabase({ name: "templates", url, entities: [TemplateRow, TemplateVersionRow], migrations });
    const log = createLogger("watch-test", { level: "silent" });
    try {
      const { c, t, r } = await started({}, on);
      let inFlight = 0;
      let most = 0;
      let asked = 0;
      // Slow to answer, so that the two rounds overlap.
      const source = {
        async watch() {
          asked++;
          inFlight++;
          most = Math.max(most, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 300));
          inFlight--;
          return create(WatchRolloutResponseSchema, { watch: figures(60, 15, 7.61, "👎 on its answers"), halt: true });
        },
        close() {},
      };
      const [a, b] = [1, 2].map(() => startRolloutWatch({ em: orm.em, source, log, intervalMs: 3_600_000 }));
      try {
        await Promise.all([a!.round(), b!.round()]);
      } finally {
        await a!.close();
        await b!.close();
      }
      expect(most).toBe(1);
      expect(asked).toBe(1);
      const got = await read(c, t.id, r.rolloutId, on.rollouts);
      expect(got.state).toBe(RolloutState.HALTED);
      expect(got.steps.filter((s) => s.action === RolloutAction.HALT)).toHaveLength(1);
    } finally {
      await orm.close();
      await unwatched.close();
    }
  });
});
