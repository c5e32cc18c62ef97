// `pool rollout …` end to end: the command line as a creator types it,
// against a real gateway and templates service on test databases (the
// signatures made by the CLI's key, checked by the templates service as in
// production). No claims service: the rollout's pushes wait in the
// templates service's outbox, which this does not read.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { NO_LIMITS, createLogger, generateServiceCredentials } from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { run } from "../../main.js";

const silent = (name: string) => createLogger(name, { level: "silent" });
let dir: string;
let templates: RunningTemplateService;
let gateway: RunningGateway;

/** Runs `pool ARGS`; what it printed and its exit code. */
async function pool(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  // As scripts run it (`--json`): these tests read the JSON it prints.
  const code = await run(["--json", ...argv], {
    env: { POOL_URL: gateway.url, POOL_KEY_FILE: join(dir, "creator.json") },
    cwd: dir,
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
  });
  return { code, out, err };
}

/** `pool ARGS`, which must succeed: its JSON. */
async function ok(...argv: string[]): Promise<any> {
  const r = await pool(...argv);
  expect(r.code, `${argv.join(" ")}: ${r.err}`).toBe(0);
  return JSON.parse(r.out);
}

beforeAll(async () => {
  const creds = generateServiceCredentials();
  dir = await mkdtemp(join(tmpdir(), "pool-cli-rollout-"));
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("clir_templates"),
    credentials: creds.templates,
    log: silent("templates"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    credentials: creds.gateway,
    limits: NO_LIMITS,
    databaseUrl: await createTestDatabase("clir_gateway"),
    log: silent("gateway"),
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await templates?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("starts a rollout at 10%, widens it to 50% and rolls it back: the template's version is two on, with the old content", async () => {
  const OLD = { agent_name: "Trip Planner", instructions: "You plan trips." };
  const NEW = { agent_name: "Trip Planner", instructions: "You plan trips, and you ask about the budget first." };
  await writeFile(join(dir, "old.json"), JSON.stringify(OLD));
  await writeFile(join(dir, "new.json"), JSON.stringify(NEW));
  await ok("keygen");
  const created = await ok("create", "old.json");
  const id = created.id as string;
  const n = created.version as number;

  const started = await ok(
    "rollout",
    "start",
    id,
    "new.json",
    "--share",
    "10",
    "--bound",
    "thumbs_down=0.3",
    "--false-alarm",
    "0.01",
    "--notes",
    "Budget first.",
  );
  expect(started.template).toMatchObject({ id, version: n + 1, instructions: NEW.instructions });
  expect(started.rollout).toMatchObject({
    state: "running",
    share_percent: 10,
    baseline_version: n,
    candidate_version: n + 1,
    bounds: { thumbs_down: 0.3, false_alarm: 0.01, removals: 0.5 },
  });
  const rolloutId = started.rollout.rollout_id as string;

  const widened = await ok("rollout", "widen", id, rolloutId, "--share", "50");
  expect(widened).toMatchObject({ state: "running", share_basis_points: 5_000 });

  const shown = await pool("rollout", "show", id, rolloutId);
  expect(shown.code, shown.err).toBe(0);
  expect(shown.out).toContain(`Rollout ${rolloutId} of template ${id}: running, share 50%`);
  expect(shown.out).toMatch(/start\s+10%/);
  expect(shown.out).toMatch(/widen\s+50%/);

  const rolledBack = await ok("rollout", "roll-back", id, rolloutId);
  expect(rolledBack).toMatchObject({ state: "rolled_back", share_basis_points: 5_000 });
  expect(rolledBack.steps.map((s: { action: string }) => s.action)).toEqual(["start", "widen", "roll_back"]);

  const now = await ok("get", id);
  expect(now).toMatchObject({ version: n + 2, instructions: OLD.instructions });
  const listed = await ok("rollout", "list", id);
  expect(listed.rollouts.map((r: { rollout_id: string }) => r.rollout_id)).toEqual([rolloutId]);

  // An ended rollout takes no step: the service's refusal, exit 1.
  const late = await pool("rollout", "widen", id, rolloutId, "--share", "60");
  expect(late.code).toBe(1);
  expect(JSON.parse(late.err).error).toMatchObject({ type: "unprocessable_entity" });
  expect(JSON.parse(late.err).error.message).toMatch(/rolled back/);
});
