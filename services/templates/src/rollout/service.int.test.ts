// RolloutService on a real templates service: PostgreSQL, gRPC, creators'
// EIP-712 signatures made with their keys (kit signOperation) and checked as
// in production. The claims service is a stand-in (test/sync-receiver.ts), a
// server of its TemplateSyncService contract that records what it is pushed.
import { create } from "@bufbuild/protobuf";
import { Code, type Client } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RolloutAction,
  RolloutBoundsSchema,
  RolloutService,
  RolloutState,
  type RolloutBounds,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { TemplateChange } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  TemplatePatchSchema,
  TemplateReleaseService,
  TemplateService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { contentFromJson, fieldViolations, jsonHash, type TemplateContentJson } from "@convos-pool/kit/content";
import { createServiceClient, generateServiceCredentials } from "@convos-pool/kit/server";
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
import {
  newIdentity,
  sampleContent,
  signedPublish,
  signedTemplate,
  tool,
  type TestIdentity,
} from "@convos-pool/kit/testing";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { TemplateRow, TemplateVersionRow } from "../db/entities.js";
import { migrations } from "../db/migrations.js";
import { startTemplateService, type RunningTemplateService } from "../server.js";
import { as, expectCode } from "../../test/helpers.js";
import { Receiver } from "../../test/sync-receiver.js";
import { haltRollout } from "./fallback.js";

const CREDS = generateServiceCredentials();
const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });

const BASELINE = sampleContent();
const CANDIDATE = sampleContent({ instructions: "You plan trips, and you ask about the budget first." });

let receiver: Receiver;
let service: RunningTemplateService;
let templates: Client<typeof TemplateService>;
let rollouts: Client<typeof RolloutService>;
let sql: pg.Client;
let databaseUrl: string;

beforeAll(async () => {
  receiver = await new Receiver(CREDS.claims).start();
  databaseUrl = await createTestDatabase("templates_rollouts");
  service = await startTemplateService({
    databaseUrl,
    credentials: CREDS.templates,
    sync: { claimsUrl: receiver.server.url, intervalMs: 100, backoff: { initialMs: 100, maxMs: 400 } },
  });
  templates = createServiceClient(TemplateService, service.url, CREDS.gateway).client;
  rollouts = createServiceClient(RolloutService, service.url, CREDS.gateway).client;
  sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await service?.close();
  await receiver?.server.close();
});

interface StartOptions {
  share?: number;
  bounds?: Partial<Omit<RolloutBounds, "$typeName" | "$unknown">>;
  /** Signed over another share or bounds than the request's. */
  stepShare?: number;
  stepBounds?: Partial<Omit<RolloutBounds, "$typeName" | "$unknown">>;
  /** The content the fallback is signed to restore; default the baseline's. */
  fallbackContent?: TemplateContentJson;
  expected?: bigint;
  signer?: TestIdentity;
}

/** `c`'s signed StartRollout of CANDIDATE on the template at `version`, each signature made as a client makes it. */
async function start(c: TestIdentity, id: string, version: bigint, o: StartOptions = {}) {
  const signer = o.signer ?? c;
  const share = o.share ?? 1_000;
  const expected = o.expected ?? version;
  const base = { inboxId: c.inboxId, templateId: id };
  const signature = await signOperation(signer.account, "UpdateTemplate", {
    ...base,
    version: expected,
    contentHash: jsonHash(CANDIDATE),
  });
  const fallbackSignature = await signOperation(signer.account, "RollbackTemplate", {
    ...base,
    version: expected + 1n,
    targetVersion: expected,
    contentHash: jsonHash(o.fallbackContent ?? BASELINE),
  });
  const stepSignature = await signOperation(signer.account, "RolloutStep", {
    ...base,
    version: expected + 1n,
    action: RolloutAction.START,
    shareBasisPoints: o.stepShare ?? share,
    boundsHash: rolloutBoundsHash(rolloutBoundsJson(o.stepBounds ?? o.bounds)),
  });
  return rollouts.startRollout(
    {
      templateId: id,
      expectedVersion: expected,
      content: contentFromJson(CANDIDATE),
      signature,
      shareBasisPoints: share,
      bounds: create(RolloutBoundsSchema, o.bounds ?? {}),
      fallbackSignature,
      stepSignature,
    },
    as(c),
  );
}

/** `c`'s signed step; the share signed is `signedShare` (default the request's, else the current one `current`). */
async function step(
  c: TestIdentity,
  r: { templateId: string; rolloutId: string; candidateVersion: bigint; bounds?: RolloutBounds | undefined },
  action: RolloutAction,
  share: number,
  signedShare = share,
  requestShare = action === RolloutAction.WIDEN ? share : 0,
) {
  const signature = await signOperation(c.account, "RolloutStep", {
    inboxId: c.inboxId,
    templateId: r.templateId,
    version: r.candidateVersion,
    action,
    shareBasisPoints: signedShare,
    boundsHash: rolloutBoundsHash(rolloutBoundsJson(r.bounds)),
  });
  return rollouts.stepRollout(
    { templateId: r.templateId, rolloutId: r.rolloutId, action, shareBasisPoints: requestShare, signature },
    as(c),
  );
}

/** A private template of a new creator at version 1, its content BASELINE. */
async function template() {
  const c = newIdentity();
  const t = await signedTemplate(templates, c, BASELINE, "private");
  return { c, t };
}

const lastPush = (id: string) => {
  const i = receiver.received.map((t) => t.templateId).lastIndexOf(id);
  return i < 0 ? undefined : { template: receiver.received[i]!, rollout: receiver.rollouts[i] };
};

async function count(table: string, templateId: string): Promise<number> {
  const r = await sql.query(`select count(*)::int as n from ${table} where template_id = $1`, [templateId]);
  return r.rows[0].n;
}

describe("starting a rollout", () => {
  it("makes the candidate a content version and pushes it with its share and the creator's start", async () => {
    const { c, t } = await template();
    const res = await start(c, t.id, 1n, { share: 1_000, bounds: { thumbsDown: 0.25 } });
    const r = res.rollout!;
    expect(r.rolloutId).toMatch(/^ro_[A-Za-z0-9]{16}$/);
    expect(r).toMatchObject({
      templateId: t.id,
      baselineVersion: 1n,
      candidateVersion: 2n,
      fallbackVersion: 3n,
      state: RolloutState.RUNNING,
      shareBasisPoints: 1_000,
      conversations: 0,
    });
    expect(r.bounds).toMatchObject({ thumbsDown: 0.25, removals: 0.5, falseAlarm: 0.05 });
    expect(r.steps.map((s) => [s.action, s.shareBasisPoints])).toEqual([[RolloutAction.START, 1_000]]);
    expect(res.template?.version).toBe(2n);
    expect(res.template?.content?.instructions).toBe(CANDIDATE.instructions);

    const versions = await templates.listTemplateVersions({ templateId: t.id }, as(c));
    expect(versions.versions.map((v) => [v.version, v.changeSummary])).toEqual([
      [2n, "update"],
      [1n, "create"],
    ]);

    await waitFor("the candidate's push", () => lastPush(t.id) !== undefined);
    const push = lastPush(t.id)!;
    expect(push.template.version).toBe(2n);
    expect(push.template.change).toBe(TemplateChange.UPDATE);
    expect(push.rollout).toMatchObject({
      rolloutId: r.rolloutId,
      baselineVersion: 1n,
      shareBasisPoints: 1_000,
      paused: false,
      step: 1,
    });
    expect(push.rollout?.stepSignature?.signature).toBe(r.steps[0]?.signature?.signature);
    // What the claims service checks before it applies the share: the creator signed this step of this version,
    // this share and these bounds (claims sync/policy.ts rolloutStepFields).
    expect(push.rollout).toMatchObject({
      action: RolloutAction.START,
      boundsHash: rolloutBoundsHash(rolloutBoundsJson({ thumbsDown: 0.25 })),
    });
    const rollout = push.rollout!;
    await expect(
      verifier.verify(
        "RolloutStep",
        {
          inboxId: push.template.creatorId,
          templateId: push.template.templateId,
          version: push.template.version,
          action: rollout.action,
          shareBasisPoints: rollout.shareBasisPoints,
          boundsHash: rollout.boundsHash,
        },
        rollout.stepSignature,
        "rollout.step_signature",
        { anyAge: true },
      ),
    ).resolves.toBeDefined();
  });

  it("refuses each bad request with its code and field, and writes nothing", async () => {
    const { c, t } = await template();
    const field = async (p: Promise<unknown>, code: Code) => fieldViolations(await expectCode(p, code))[0]?.field;
    expect(await field(start(c, t.id, 1n, { share: 0 }), Code.InvalidArgument)).toBe("share_basis_points");
    expect(await field(start(c, t.id, 1n, { share: 10_000 }), Code.InvalidArgument)).toBe("share_basis_points");
    expect(await field(start(c, t.id, 1n, { bounds: { thumbsDown: 20 } }), Code.InvalidArgument)).toBe(
      "bounds.thumbs_down",
    );
    expect(await field(start(c, t.id, 1n, { bounds: { toolCallsFailed: 0.01 } }), Code.InvalidArgument)).toBe(
      "bounds.tool_calls_failed",
    );
    expect(await field(start(c, t.id, 1n, { bounds: { falseAlarm: 0.5 } }), Code.InvalidArgument)).toBe(
      "bounds.false_alarm",
    );
    // Another current version than the one the change is based on: a conflict, as for UpdateTemplate.
    await expectCode(start(c, t.id, 1n, { expected: 4n }), Code.Aborted);
    // The fallback signed to restore other content, the start over another share or other bounds.
    const other = sampleContent({ instructions: "something else" });
    expect((await expectCode(start(c, t.id, 1n, { fallbackContent: other }), Code.PermissionDenied)).message).toContain(
      "fallback_signature",
    );
    expect((await expectCode(start(c, t.id, 1n, { stepShare: 2_000 }), Code.PermissionDenied)).message).toContain(
      "step_signature",
    );
    await expectCode(start(c, t.id, 1n, { stepBounds: { corrections: 1 } }), Code.PermissionDenied);
    // Signed by someone else: refused as any forged change; a stranger signed in is told there is no such template.
    const mallory = newIdentity();
    await expectCode(start(c, t.id, 1n, { signer: mallory }), Code.PermissionDenied);
    await expectCode(start(mallory, t.id, 1n), Code.NotFound);

    expect(await count("rollouts", t.id)).toBe(0);
    expect(await count("template_versions", t.id)).toBe(1);
  });

  it("refuses a candidate that drops the wallet without the creator's acknowledgment", async () => {
    const c = newIdentity();
    const withWallet = sampleContent({ tools: [...BASELINE.tools, tool("crypto", "pool")] });
    const t = await signedTemplate(templates, c, withWallet, "private");
    const err = await expectCode(start(c, t.id, 1n, { fallbackContent: withWallet }), Code.FailedPrecondition);
    expect(fieldViolations(err)[0]?.field).toBe("acknowledge_wallet_removal");
    expect(await count("rollouts", t.id)).toBe(0);
  });
});

describe("while a rollout is live", () => {
  it("refuses every other change of the template, and a second rollout", async () => {
    const { c, t } = await template();
    await start(c, t.id, 1n);
    const running = "a rollout of version 2 is running: promote it or roll it back first";

    const update = await signOperation(c.account, "UpdateTemplate", {
      inboxId: c.inboxId,
      templateId: t.id,
      version: 2n,
      contentHash: jsonHash(BASELINE),
    });
    const refused = await expectCode(
      templates.updateTemplate({
        templateId: t.id,
        expectedVersion: 2n,
        content: contentFromJson(BASELINE),
        signature: update,
      }),
      Code.FailedPrecondition,
    );
    expect(refused.rawMessage).toContain(running);

    const patch = create(TemplatePatchSchema, { description: "new" });
    const patchSig = await signOperation(c.account, "PatchTemplate", {
      inboxId: c.inboxId,
      templateId: t.id,
      version: 2n,
      patchHash: jsonHash({ description: "new" }),
      contentHash: jsonHash({ ...CANDIDATE, description: "new" }),
    });
    await expectCode(
      templates.patchTemplate({ templateId: t.id, expectedVersion: 2n, patch, signature: patchSig }),
      Code.FailedPrecondition,
    );

    const rollback = await signOperation(c.account, "RollbackTemplate", {
      inboxId: c.inboxId,
      templateId: t.id,
      version: 2n,
      targetVersion: 1n,
      contentHash: jsonHash(BASELINE),
    });
    await expectCode(
      templates.rollbackTemplate({ templateId: t.id, expectedVersion: 2n, targetVersion: 1n, signature: rollback }),
      Code.FailedPrecondition,
    );
    // Publishing would take the version its fallback is signed for.
    await expectCode(signedPublish(templates, c, { id: t.id, version: 2n }), Code.FailedPrecondition);
    expect(
      (await expectCode(start(c, t.id, 2n, { fallbackContent: CANDIDATE }), Code.FailedPrecondition)).rawMessage,
    ).toContain(running);
    expect(await count("template_versions", t.id)).toBe(2);
  });
});

describe("steps", () => {
  it("a new agent of a published template starts on the content its publish kept, and the store shows that, while a rollout is live", async () => {
    const c = newIdentity();
    const t = await signedTemplate(templates, c, BASELINE);
    // Version 2 is the publish: no content of its own, and the rollout's baseline.
    expect({ version: t.version, content: t.contentVersion }).toEqual({ version: 2n, content: 1n });
    const r = (await start(c, t.id, 2n)).rollout!;
    expect(r.baselineVersion).toBe(2n);
    const releases = createServiceClient(TemplateReleaseService, service.url, CREDS.claims).client;
    const { release } = await releases.getTemplateRelease({ templateId: t.id });
    expect(release?.version).toBe(1n);
    expect(release?.content?.instructions).toBe(BASELINE.instructions);

    // The store shows others what adding it gives them; its creator reads the version they ship.
    const other = (await templates.getTemplate({ templateId: t.id, resolve: true }, as(newIdentity()))).template!;
    expect({ instructions: other.content?.instructions, contentVersion: other.contentVersion }).toEqual({
      instructions: BASELINE.instructions,
      contentVersion: 1n,
    });
    const own = (await templates.getTemplate({ templateId: t.id }, as(c))).template!;
    expect({ instructions: own.content?.instructions, contentVersion: own.contentVersion }).toEqual({
      instructions: CANDIDATE.instructions,
      contentVersion: 3n,
    });
  });

  it("widen, pause, resume and promote, each as the state allows, each pushed; the promote without the rollout", async () => {
    const { c, t } = await template();
    const r = (await start(c, t.id, 1n, { share: 1_000 })).rollout!;

    expect((await step(c, r, RolloutAction.WIDEN, 5_000)).rollout?.shareBasisPoints).toBe(5_000);
    await expectCode(step(c, r, RolloutAction.WIDEN, 4_000), Code.InvalidArgument);
    await expectCode(step(c, r, RolloutAction.WIDEN, 10_000), Code.InvalidArgument);
    await expectCode(step(c, r, RolloutAction.RESUME, 5_000), Code.FailedPrecondition);
    // A step signed over another share than the one it leaves: refused.
    await expectCode(step(c, r, RolloutAction.PAUSE, 5_000, 9_000), Code.PermissionDenied);
    await expectCode(step(c, r, RolloutAction.START, 5_000), Code.InvalidArgument);

    // A new agent starts on the current version (the claims service moves it if its conversation is in the share).
    const releases = createServiceClient(TemplateReleaseService, service.url, CREDS.claims).client;
    expect((await releases.getTemplateRelease({ templateId: t.id })).release?.version).toBe(1n);

    const paused = (await step(c, r, RolloutAction.PAUSE, 5_000)).rollout!;
    expect(paused.state).toBe(RolloutState.PAUSED);
    await waitFor("the pause's push", () => lastPush(t.id)?.rollout?.step === 3);
    expect(lastPush(t.id)?.rollout).toMatchObject({ paused: true, shareBasisPoints: 5_000 });
    await expectCode(step(c, r, RolloutAction.PAUSE, 5_000), Code.FailedPrecondition);
    await expectCode(step(c, r, RolloutAction.WIDEN, 6_000), Code.FailedPrecondition);

    expect((await step(c, r, RolloutAction.RESUME, 5_000)).rollout?.state).toBe(RolloutState.RUNNING);
    const promoted = (await step(c, r, RolloutAction.PROMOTE, 5_000)).rollout!;
    expect(promoted.state).toBe(RolloutState.PROMOTED);
    expect(promoted.steps.map((s) => s.action)).toEqual([
      RolloutAction.START,
      RolloutAction.WIDEN,
      RolloutAction.PAUSE,
      RolloutAction.RESUME,
      RolloutAction.PROMOTE,
    ]);
    // The same version again, now for every instance.
    await waitFor("the promote's push", () => {
      const p = lastPush(t.id);
      return p !== undefined && p.template.version === 2n && p.rollout === undefined;
    });
    await expectCode(step(c, r, RolloutAction.ROLL_BACK, 5_000), Code.FailedPrecondition);
    expect((await releases.getTemplateRelease({ templateId: t.id })).release?.version).toBe(2n);

    // Ended: the template takes changes again.
    const next = await signedPublish(templates, c, { id: t.id, version: 2n });
    expect(next.version).toBe(3n);
  });

  it("rolls back to the fallback: version N+2 with the baseline's content, a release agents accept", async () => {
    const { c, t } = await template();
    const r = (await start(c, t.id, 1n, { share: 300 })).rollout!;
    const back = (await step(c, r, RolloutAction.ROLL_BACK, 300)).rollout!;
    expect(back.state).toBe(RolloutState.ROLLED_BACK);

    const now = (await templates.getTemplate({ templateId: t.id }, as(c))).template!;
    expect(now.version).toBe(3n);
    expect(now.content?.instructions).toBe(BASELINE.instructions);
    await waitFor("the fallback's push", () => lastPush(t.id)?.template.version === 3n);
    const push = lastPush(t.id)!;
    expect(push.rollout).toBeUndefined();
    expect(push.template.change).toBe(TemplateChange.ROLLBACK);
    expect(push.template.rollbackTargetVersion).toBe(1n);
    expect(await verifyTemplateRelease(verifier, push.template, { templateId: t.id, creatorId: c.inboxId })).toBe(
      c.account.address,
    );
    // Ended: a new rollout may start from the fallback.
    expect((await start(c, t.id, 3n)).rollout?.candidateVersion).toBe(4n);
  });

  it("the pool's halt rolls back as the creator's would, and says why", async () => {
    const { c, t } = await template();
    const r = (await start(c, t.id, 1n)).rollout!;
    const orm = await openDatabase({
      name: "templates",
      url: databaseUrl,
      entities: [TemplateRow, TemplateVersionRow],
      migrations,
    });
    try {
      const halted = await haltRollout(
        { em: orm.em },
        { templateId: t.id, rolloutId: r.rolloutId, reason: "👎 on its answers" },
      );
      expect(halted.state).toBe("halted");
      await expectCode(
        haltRollout({ em: orm.em }, { templateId: t.id, rolloutId: r.rolloutId, reason: "again" }),
        Code.FailedPrecondition,
      );
    } finally {
      await orm.close();
    }
    const got = (await rollouts.getRollout({ templateId: t.id, rolloutId: r.rolloutId }, as(c))).rollout!;
    expect(got.state).toBe(RolloutState.HALTED);
    expect(got.watch?.haltedOn).toBe("👎 on its answers");
    expect(got.steps.at(-1)?.action).toBe(RolloutAction.HALT);
    expect(got.steps.at(-1)?.signature).toBeUndefined();
    await waitFor("the fallback's push", () => lastPush(t.id)?.template.version === 3n);
    expect(
      await verifyTemplateRelease(verifier, lastPush(t.id)!.template, { templateId: t.id, creatorId: c.inboxId }),
    ).toBe(c.account.address);
  });
});

describe("reading rollouts", () => {
  it("is the creator's, signed in, newest first a page at a time; anyone else finds nothing", async () => {
    const { c, t } = await template();
    const first = (await start(c, t.id, 1n)).rollout!;
    await step(c, first, RolloutAction.PROMOTE, 1_000);
    const second = (await start(c, t.id, 2n, { fallbackContent: CANDIDATE })).rollout!;

    const page1 = await rollouts.listRollouts({ templateId: t.id, pageSize: 1 }, as(c));
    expect(page1.rollouts.map((r) => r.rolloutId)).toEqual([second.rolloutId]);
    const page2 = await rollouts.listRollouts({ templateId: t.id, pageSize: 1, pageToken: page1.nextPageToken }, as(c));
    expect(page2.rollouts.map((r) => r.rolloutId)).toEqual([first.rolloutId]);
    expect(page2.nextPageToken).toBe("");

    const stranger = newIdentity();
    await expectCode(
      rollouts.getRollout({ templateId: t.id, rolloutId: first.rolloutId }, as(stranger)),
      Code.NotFound,
    );
    await expectCode(rollouts.getRollout({ templateId: t.id, rolloutId: first.rolloutId }), Code.NotFound);
    await expectCode(rollouts.listRollouts({ templateId: t.id }, as(stranger)), Code.NotFound);
    // A stranger's step, signed in, is not told the rollout is there either.
    await expectCode(step(stranger, { ...second, templateId: t.id }, RolloutAction.PAUSE, 1_000), Code.NotFound);
    // Another template's rollout id is no rollout of this one.
    const other = await template();
    await expectCode(
      rollouts.getRollout({ templateId: other.t.id, rolloutId: first.rolloutId }, as(other.c)),
      Code.NotFound,
    );
  });
});
