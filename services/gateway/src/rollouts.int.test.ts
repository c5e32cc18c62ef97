// A template's staged rollouts through the gateway (docs/rest.md,
// "Rollouts"; docs/rollouts.md): the REST paths and RolloutService on the
// Connect face, forwarded to the real templates service over gRPC, on real
// PostgreSQL, each change signed by the creator's key (kit signOperation) as
// a client signs it. No claims service: the rollout's pushes wait in the
// templates service's outbox, which is not what these tests read.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RolloutAction, RolloutService, RolloutState } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { jsonHash, type TemplateContentJson } from "@convos-pool/kit/content";
import {
  NO_LIMITS,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  type ServiceClient,
} from "@convos-pool/kit/server";
import { rolloutBoundsHash, rolloutBoundsJson, type RolloutBoundsJson } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { startGateway, type RunningGateway } from "./server.js";
import { restCall, restSession, restSig, type RestCall } from "../test/rest.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
let templates: RunningTemplateService;
let gateway: RunningGateway;
let templatesSc: ServiceClient<typeof TemplateService>;

const rest = (method: string, path: string, opts: RestCall = {}) => restCall(gateway.url, method, path, opts);

const BASELINE = sampleContent();
const CANDIDATE = sampleContent({ instructions: "You plan trips, and you ask about the budget first." });

beforeAll(async () => {
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("gwr_templates"),
    credentials: CREDS.templates,
    log: quiet("templates"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    databaseUrl: await createTestDatabase("gwr_gateway"),
    log: quiet("gateway"),
  });
  templatesSc = createServiceClient(TemplateService, templates.url, CREDS.gateway);
}, 60_000);

afterAll(async () => {
  templatesSc?.close();
  await gateway?.close();
  await templates?.close();
});

/** The REST body of `c`'s start of CANDIDATE on template `id` at `version`, every signature made as a client makes it. */
async function startBody(
  c: TestIdentity,
  id: string,
  version: number,
  o: { share?: number; bounds?: { thumbsDown?: number }; content?: TemplateContentJson } = {},
) {
  const v = BigInt(version);
  const share = o.share ?? 1_000;
  return {
    expected_version: version,
    content: CANDIDATE,
    signature: await restSig(c, "UpdateTemplate", { templateId: id, version: v, contentHash: jsonHash(CANDIDATE) }),
    release_notes: "Budget first.",
    share_percent: share / 100,
    ...(o.bounds?.thumbsDown ? { bounds: { thumbs_down: o.bounds.thumbsDown } } : {}),
    fallback_signature: await restSig(c, "RollbackTemplate", {
      templateId: id,
      version: v + 1n,
      targetVersion: v,
      contentHash: jsonHash(o.content ?? BASELINE),
    }),
    step_signature: await restSig(c, "RolloutStep", {
      templateId: id,
      version: v + 1n,
      action: RolloutAction.START,
      shareBasisPoints: share,
      boundsHash: rolloutBoundsHash(rolloutBoundsJson(o.bounds)),
    }),
  };
}

/** The REST body of `c`'s step of a rollout as the gateway showed it: signed over the share after it and its bounds. */
async function stepBody(
  c: TestIdentity,
  rollout: { template_id: string; candidate_version: number; share_basis_points: number; bounds: RolloutBoundsJson },
  action: "widen" | "pause" | "resume" | "promote" | "roll_back",
  share?: number,
) {
  const numbers = {
    widen: RolloutAction.WIDEN,
    pause: RolloutAction.PAUSE,
    resume: RolloutAction.RESUME,
    promote: RolloutAction.PROMOTE,
    roll_back: RolloutAction.ROLL_BACK,
  };
  const b = rollout.bounds;
  const bounds = rolloutBoundsJson({
    removals: b.removals,
    pauses: b.pauses,
    stopRequests: b.stop_requests,
    thumbsDown: b.thumbs_down,
    corrections: b.corrections,
    toolCallsFailed: b.tool_calls_failed,
    approvalsDeclined: b.approvals_declined,
    falseAlarm: b.false_alarm,
  });
  return {
    action,
    ...(share !== undefined ? { share_percent: share / 100 } : {}),
    signature: await restSig(c, "RolloutStep", {
      templateId: rollout.template_id,
      version: BigInt(rollout.candidate_version),
      action: numbers[action],
      shareBasisPoints: share ?? rollout.share_basis_points,
      boundsHash: rolloutBoundsHash(bounds),
    }),
  };
}

describe("a template's rollouts on REST", () => {
  it("start at 10%, widen to 50%, pause, resume and promote, each signed by the creator, read back by the creator's session", async () => {
    const creator = newIdentity();
    const t = await signedTemplate(templatesSc.client, creator, BASELINE);
    const base = `/api/pool/templates/${t.id}/rollouts`;
    const token = await restSession(gateway.url, creator);

    const started = await rest("POST", base, {
      body: await startBody(creator, t.id, Number(t.version), { bounds: { thumbsDown: 0.3 } }),
    });
    expect(started.status, JSON.stringify(started.json)).toBe(201);
    const rollout = started.json.rollout;
    expect(rollout).toMatchObject({
      template_id: t.id,
      baseline_version: Number(t.version),
      candidate_version: Number(t.version) + 1,
      fallback_version: Number(t.version) + 2,
      state: "running",
      share_basis_points: 1_000,
      share_percent: 10,
      bounds: { thumbs_down: 0.3, removals: 0.5, false_alarm: 0.05 },
      steps: [{ action: "start", share_percent: 10 }],
    });
    expect(rollout.rollout_id).toMatch(/^ro_/);
    expect(started.json.template).toMatchObject({
      id: t.id,
      version: Number(t.version) + 1,
      instructions: CANDIDATE.instructions,
    });
    expect(started.headers.get("etag")).toBe(`"${Number(t.version) + 1}"`);
    expect(started.headers.get("location")).toBe(`${base}/${rollout.rollout_id}`);

    const one = `${base}/${rollout.rollout_id}`;
    const widened = await rest("POST", `${one}/steps`, { body: await stepBody(creator, rollout, "widen", 5_000) });
    expect(widened.status, JSON.stringify(widened.json)).toBe(200);
    expect(widened.json).toMatchObject({ state: "running", share_percent: 50 });

    const paused = await rest("POST", `${one}/steps`, { body: await stepBody(creator, widened.json, "pause") });
    expect(paused.status, JSON.stringify(paused.json)).toBe(200);
    expect(paused.json).toMatchObject({ state: "paused", share_basis_points: 5_000 });

    // A second start while one is live: the template takes no other content change.
    const again = await rest("POST", base, {
      body: await startBody(creator, t.id, Number(t.version) + 1, { content: CANDIDATE }),
    });
    expect(again.status, JSON.stringify(again.json)).toBe(422);

    const resumed = await rest("POST", `${one}/steps`, { body: await stepBody(creator, paused.json, "resume") });
    expect(resumed.json).toMatchObject({ state: "running" });
    const promoted = await rest("POST", `${one}/steps`, { body: await stepBody(creator, resumed.json, "promote") });
    expect(promoted.status, JSON.stringify(promoted.json)).toBe(200);
    expect(promoted.json.state).toBe("promoted");
    expect(promoted.json.steps.map((s: { action: string }) => s.action)).toEqual([
      "start",
      "widen",
      "pause",
      "resume",
      "promote",
    ]);
    for (const s of promoted.json.steps) expect(s.signature.issued_at).toBeGreaterThan(0);

    const read = await rest("GET", one, { token });
    expect(read.status).toBe(200);
    expect(read.json).toEqual(promoted.json);
    const listed = await rest("GET", `${base}?limit=5`, { token });
    expect(listed.status).toBe(200);
    expect(listed.json).toEqual({ rollouts: [promoted.json], next_cursor: null });
  });

  it("are the creator's: another person's session reads and changes nothing, and without a session nothing is read (404, as for a missing template)", async () => {
    const creator = newIdentity();
    const other = newIdentity();
    const t = await signedTemplate(templatesSc.client, creator, BASELINE);
    const base = `/api/pool/templates/${t.id}/rollouts`;
    const started = await rest("POST", base, { body: await startBody(creator, t.id, Number(t.version)) });
    expect(started.status, JSON.stringify(started.json)).toBe(201);
    const rollout = started.json.rollout;
    const otherToken = await restSession(gateway.url, other);

    for (const path of [base, `${base}/${rollout.rollout_id}`]) {
      const read = await rest("GET", path, { token: otherToken });
      expect(read.status, path).toBe(404);
      expect(read.json.error.type).toBe("not_found");
      expect((await rest("GET", path)).status, path).toBe(404);
    }
    // Signed by the other person, sent with their session: not theirs to step.
    const step = await rest("POST", `${base}/${rollout.rollout_id}/steps`, {
      token: otherToken,
      body: await stepBody(other, rollout, "roll_back"),
    });
    expect(step.status, JSON.stringify(step.json)).toBe(404);
    // Signed by someone else than the creator, without a session: the signature is not the creator's.
    const forged = await rest("POST", `${base}/${rollout.rollout_id}/steps`, {
      body: await stepBody(other, rollout, "roll_back"),
    });
    expect(forged.status, JSON.stringify(forged.json)).toBe(403);
    const still = await rest("GET", `${base}/${rollout.rollout_id}`, {
      token: await restSession(gateway.url, creator),
    });
    expect(still.json.state).toBe("running");
  });

  it("answer a bad share with 400 naming the field it was sent in, and a bad step or path likewise", async () => {
    const creator = newIdentity();
    const t = await signedTemplate(templatesSc.client, creator, BASELINE);
    const base = `/api/pool/templates/${t.id}/rollouts`;
    const body = await startBody(creator, t.id, Number(t.version));

    for (const [share, field] of [
      [{ share_percent: 100 }, "share_percent"],
      [{ share_percent: 0 }, "share_percent"],
      [{ share_percent: 10.005 }, "share_percent"],
      [{ share_percent: undefined, share_basis_points: 10_000 }, "share_basis_points"],
      [{ share_percent: "10" }, "share_percent"],
    ] as const) {
      const res = await rest("POST", base, { body: { ...body, ...share } });
      expect(res.status, JSON.stringify(share)).toBe(400);
      expect(res.json.error.field, JSON.stringify(res.json)).toBe(field);
    }
    const badBound = await rest("POST", base, { body: { ...body, bounds: { thumbs_down: 50 } } });
    expect(badBound.status).toBe(400);
    expect(badBound.json.error.field).toBe("bounds.thumbs_down");
    const badContent = await rest("POST", base, { body: { ...body, content: { agent_name: "A" } } });
    expect(badContent.json.error.field).toBe("content.instructions");

    const started = await rest("POST", base, { body });
    expect(started.status, JSON.stringify(started.json)).toBe(201);
    const rollout = started.json.rollout;
    const steps = `${base}/${rollout.rollout_id}/steps`;
    // A widen to a share below the current one: the service's refusal, named as the body sent it.
    const narrower = await rest("POST", steps, { body: await stepBody(creator, rollout, "widen", 500) });
    expect(narrower.status, JSON.stringify(narrower.json)).toBe(400);
    expect(narrower.json.error.field).toBe("share_percent");
    const noShare = await rest("POST", steps, { body: { action: "widen" } });
    expect(noShare.json.error.field).toBe("share_percent");
    const badAction = await rest("POST", steps, { body: { action: "halt" } });
    expect(badAction.status).toBe(400);
    expect(badAction.json.error.field).toBe("action");
    const badId = await rest("GET", `${base}/nope`, { token: await restSession(gateway.url, creator) });
    expect(badId.status).toBe(400);
    expect(badId.json.error.field).toBe("rollout_id");
    const badQuery = await rest("GET", `${base}?page_size=3`, { token: await restSession(gateway.url, creator) });
    expect(badQuery.json.error.field).toBe("page_size");
  });
});

it("RolloutService is forwarded on the Connect face with the caller's session, as TemplateService is", async () => {
  const creator = newIdentity();
  const t = await signedTemplate(templatesSc.client, creator, BASELINE);
  const started = await rest("POST", `/api/pool/templates/${t.id}/rollouts`, {
    body: await startBody(creator, t.id, Number(t.version)),
  });
  expect(started.status, JSON.stringify(started.json)).toBe(201);
  const token = await restSession(gateway.url, creator);
  const client = createClient(
    RolloutService,
    createConnectTransport({
      baseUrl: gateway.url,
      interceptors: [
        (next) => (req) => {
          req.header.set("authorization", `Bearer ${token}`);
          return next(req);
        },
      ],
    }),
  );
  const res = await client.getRollout({ templateId: t.id, rolloutId: started.json.rollout.rollout_id });
  expect(res.rollout?.state).toBe(RolloutState.RUNNING);
  expect(res.rollout?.shareBasisPoints).toBe(1_000);
  // Anonymous: reads are the creator's.
  const anonymous = createClient(RolloutService, createConnectTransport({ baseUrl: gateway.url }));
  await expect(anonymous.listRollouts({ templateId: t.id })).rejects.toThrow(/not found|signed in|unauthenticated/i);
});
