// `pool signals` against a real gateway, lineage service and templates
// service on test databases: the command line as a creator and an owner type
// it. Agents arrive through the lineage feed and their counts from an
// instance host's credential, each signed by the agent's own key, as in
// production.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LineageEventSchema, LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { VersionSignalService } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import {
  NO_LIMITS,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  type ServiceClient,
} from "@convos-pool/kit/server";
import { signVersionSignals } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { run } from "../../main.js";

const silent = (name: string) => createLogger(name, { level: "silent" });
let dir: string;
let templates: RunningTemplateService;
let lineage: RunningLineageService;
let gateway: RunningGateway;
let feed: ServiceClient<typeof LineageEventService>;
let host: ServiceClient<typeof VersionSignalService>;

/** Runs `pool ARGS` with the key file `key`; what it printed and its exit code. */
async function pool(key: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  // As scripts run it (`--json`): these tests read the JSON it prints.
  const code = await run(["--json", ...argv], {
    env: { POOL_URL: gateway.url, POOL_KEY_FILE: join(dir, key) },
    cwd: dir,
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
  });
  return { code, out, err };
}

beforeAll(async () => {
  const creds = generateServiceCredentials();
  dir = await mkdtemp(join(tmpdir(), "pool-cli-signals-"));
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("clis_templates"),
    credentials: creds.templates,
    log: silent("templates"),
  });
  lineage = await startLineageService({
    databaseUrl: await createTestDatabase("clis_lineage"),
    credentials: creds.lineage,
    templatesUrl: templates.url,
    log: silent("lineage"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    lineageUrl: lineage.url,
    credentials: creds.gateway,
    limits: NO_LIMITS,
    databaseUrl: await createTestDatabase("clis_gateway"),
    log: silent("gateway"),
  });
  feed = createServiceClient(LineageEventService, lineage.url, creds.claims);
  host = createServiceClient(VersionSignalService, lineage.url, creds["instance-host"]);
}, 60_000);

afterAll(async () => {
  feed?.close();
  host?.close();
  await gateway?.close();
  await lineage?.close();
  await templates?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let sequence = 0n;
/** A live agent of `templateId` owned by `ownerId` that reports `answers` answers and `thumbsUp` 👍 for `version` today. */
async function reporting(templateId: string, ownerId: string, version: string, answers: number, thumbsUp: number) {
  const wallet = newIdentity();
  const instanceId = `inst_${randomBytes(8).toString("hex")}`;
  await feed.client.recordLineageEvents({
    events: [
      create(LineageEventSchema, {
        sequence: ++sequence,
        at: timestampFromDate(new Date()),
        event: { case: "claimed", value: { instanceId, templateId, ownerId, inboxId: wallet.inboxId, version } },
      }),
    ],
  });
  const report = {
    inboxId: wallet.inboxId,
    instanceId,
    templateId,
    version,
    day: new Date().toISOString().slice(0, 10),
    counts: {
      answers,
      people: 1,
      thumbsUp,
      thumbsDown: 0,
      corrections: 0,
      forgetRequests: 0,
      approvalsAsked: 0,
      approvalsDeclined: 0,
      toolCallsFailed: 0,
      pauses: 0,
      stopRequests: 0,
    },
  };
  await host.client.reportSignals({ ...report, agentSignature: await signVersionSignals(wallet.account, report) });
}

it("pool signals puts two versions side by side per 100 answers, says where one is below the threshold, shows the creator their own agents apart and an owner only others'", async () => {
  const inboxOf = async (key: string) => (JSON.parse((await pool(key, "keygen")).out) as { inbox_id: string }).inbox_id;
  const creatorInbox = await inboxOf("creator.json");
  const ownerInbox = await inboxOf("owner.json");
  await writeFile(join(dir, "content.json"), JSON.stringify(sampleContent({ tools: [] })));
  const created = await pool("creator.json", "create", "content.json");
  expect(created.code, created.err).toBe(0);
  const templateId = (JSON.parse(created.out) as { id: string }).id;

  // Version 1: five owners (one of them ours), 10 answers and 1 👍 each. Version 2: two owners, below the threshold.
  for (let i = 0; i < 5; i++) await reporting(templateId, i === 0 ? ownerInbox : `owner-${i}`, "1", 10, 1);
  for (let i = 0; i < 2; i++) await reporting(templateId, `owner-${i + 10}`, "2", 10, 5);
  // The creator's own five agents of version 2.
  for (let i = 0; i < 5; i++) await reporting(templateId, creatorInbox, "2", 20, 10);

  const mine = await pool("creator.json", "signals", templateId);
  expect(mine.code, mine.err).toBe(0);
  const [others, own] = mine.out.split("Your own agents");
  expect(others).toMatch(/^\s+v1\s+v2$/m);
  expect(others).toMatch(/^answers \(days shown\)\s+50\s+below the threshold$/m);
  expect(others).toMatch(/^👍 per 100 answers\s+10\s+below the threshold$/m);
  // What the pool recorded of the agents claimed on each: five, and two (below the threshold).
  expect(others).toMatch(/^claimed\s+5\s+2$/m);
  expect(others).toMatch(/^clones\s+0\s+below the threshold \(2 claimed\)$/m);
  expect(own).toMatch(/^👍 per 100 answers\s+below the threshold\s+50$/m);

  const asked = await pool("creator.json", "signals", templateId, "--versions", "2,1");
  expect(asked.out).toMatch(/^\s+v2\s+v1$/m);

  const theirs = await pool("owner.json", "signals", templateId);
  expect(theirs.code, theirs.err).toBe(0);
  expect(theirs.out).toMatch(/^👍 per 100 answers\s+10\s+below the threshold$/m);
  expect(theirs.out).not.toContain("Your own agents");

  expect((await pool("stranger.json", "keygen")).code).toBe(0);
  const stranger = await pool("stranger.json", "signals", templateId);
  expect(stranger.code).toBe(1);
  expect(JSON.parse(stranger.err)).toMatchObject({ error: { type: "not_found" } });
  const twice = await pool("creator.json", "signals", templateId, "--versions", "1,1");
  expect(twice.code).toBe(1);
  expect(JSON.parse(twice.err)).toMatchObject({ error: { field: "versions" } });
  expect((await pool("creator.json", "signals")).code).toBe(2);
  expect((await pool("creator.json", "signals", templateId, "--versions", ",")).code).toBe(2);
});
