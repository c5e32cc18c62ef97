// `pool patterns` against a real gateway, lineage service and templates
// service on test databases: the command line as a creator types it. Agents
// arrive through the lineage feed and patterns from an instance host, as in
// production.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate, timestampMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LineageEventSchema, LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { PatternPoolService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import {
  NO_LIMITS,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  type ServiceClient,
} from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { sampleContent } from "@convos-pool/kit/testing";
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
let host: ServiceClient<typeof PatternPoolService>;

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
  dir = await mkdtemp(join(tmpdir(), "pool-cli-patterns-"));
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("clip_templates"),
    credentials: creds.templates,
    log: silent("templates"),
  });
  lineage = await startLineageService({
    databaseUrl: await createTestDatabase("clip_lineage"),
    credentials: creds.lineage,
    templatesUrl: templates.url,
    // The default counts, of agents claimed just now: their age is lineage's tests'.
    patternQuorum: { agentAgeDays: 0, activeDays: 0 },
    log: silent("lineage"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    lineageUrl: lineage.url,
    credentials: creds.gateway,
    limits: NO_LIMITS,
    databaseUrl: await createTestDatabase("clip_gateway"),
    log: silent("gateway"),
  });
  feed = createServiceClient(LineageEventService, lineage.url, creds.claims);
  host = createServiceClient(PatternPoolService, lineage.url, creds["instance-host"]);
}, 60_000);

afterAll(async () => {
  feed?.close();
  host?.close();
  await gateway?.close();
  await lineage?.close();
  await templates?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("pool patterns lists what my template's agents offered, expired ones with --expired, to me only; --health the pool's counts", async () => {
  expect((await pool("creator.json", "keygen")).code).toBe(0);
  await writeFile(
    join(dir, "content.json"),
    JSON.stringify(sampleContent({ tools: [], category: "travel", tags: ["japan"] })),
  );
  const created = await pool("creator.json", "create", "content.json");
  expect(created.code, created.err).toBe(0);
  const templateId = (JSON.parse(created.out) as { id: string }).id;

  const agent = `inst_${randomBytes(8).toString("hex")}`;
  await feed.client.recordLineageEvents({
    events: [
      create(LineageEventSchema, {
        sequence: 1n,
        at: timestampFromDate(new Date()),
        event: { case: "claimed", value: { instanceId: agent, templateId, ownerId: "owner" } },
      }),
    ],
  });
  const live = (
    await host.client.publishPattern({ instanceId: agent, text: "Confirm the travel dates before searching flights." })
  ).pattern!;
  const short = (
    await host.client.publishPattern({ instanceId: agent, text: "Book rail passes a week ahead.", ttlSeconds: 1n })
  ).pattern!;
  await host.client.publishPattern({ instanceId: agent, text: "My name is Ana, call me." }).catch(() => undefined);
  // The short pattern's 1 s TTL (the pool's least) must pass for it to show as expired.
  await new Promise((r) => setTimeout(r, timestampMs(short.expiresAt!) - Date.now() + 5));

  const listed = await pool("creator.json", "patterns", templateId);
  expect(listed.code, listed.err).toBe(0);
  const body = JSON.parse(listed.out) as {
    patterns: { pattern_id: string; offered_count: number }[];
    refusals: Record<string, number>;
  };
  expect(body.patterns.map((p) => [p.pattern_id, p.offered_count])).toEqual([[live.patternId, 1]]);
  expect(body.refusals).toEqual({ personal_data: 1, secret: 0, injection: 0, link: 0, steering: 0 });
  const all = JSON.parse((await pool("creator.json", "patterns", templateId, "--expired")).out) as {
    patterns: { pattern_id: string }[];
  };
  expect(all.patterns.map((p) => p.pattern_id)).toEqual([short.patternId, live.patternId]);

  expect((await pool("stranger.json", "keygen")).code).toBe(0);
  const stranger = await pool("stranger.json", "patterns", templateId);
  expect(stranger.code).toBe(1);
  expect(JSON.parse(stranger.err)).toMatchObject({ error: { type: "not_found" } });

  const health = await pool("nobody.json", "patterns", "--health");
  expect(health.code, health.err).toBe(0);
  expect(JSON.parse(health.out)).toEqual({
    live_count: 1,
    expired_count: 1,
    refused_count: 1,
    refusals: { personal_data: 1, secret: 0, injection: 0, link: 0, steering: 0 },
    adoption_count: 0,
    quorum: { owners: 3, templates: 2 },
    quorum_count: 0,
  });

  for (const argv of [["patterns"], ["patterns", "--health", "--expired"], ["patterns", templateId, "--health"]]) {
    const bad = await pool("creator.json", ...argv);
    expect(bad.code, argv.join(" ")).toBe(2);
    expect(bad.err).toContain("usage: pool");
  }
});

it("pool pattern-hold, patterns-held and pattern-review: the creator holds lessons, sees those waiting, and rejects one, each signed", async () => {
  const created = await pool("creator.json", "create", "content.json");
  expect(created.code, created.err).toBe(0);
  const templateId = (JSON.parse(created.out) as { id: string }).id;
  expect((await pool("other.json", "keygen")).code).toBe(0);
  const otherId = (JSON.parse((await pool("other.json", "create", "content.json")).out) as { id: string }).id;
  // Three owners under two templates offer the same lesson: it has the quorum.
  const agents = [templateId, templateId, otherId].map((t, i) => ({
    instanceId: `inst_${randomBytes(8).toString("hex")}`,
    templateId: t,
    ownerId: `owner-${i}`,
  }));
  await feed.client.recordLineageEvents({
    events: agents.map((value, i) =>
      create(LineageEventSchema, {
        sequence: BigInt(10 + i),
        at: timestampFromDate(new Date()),
        event: { case: "claimed", value },
      }),
    ),
  });
  let patternId = "";
  for (const a of agents)
    patternId = (await host.client.publishPattern({ instanceId: a.instanceId, text: "Ask how many travel together." }))
      .pattern!.patternId;

  const on = await pool("creator.json", "pattern-hold", templateId, "on");
  expect([on.code, JSON.parse(on.out || "{}")], on.err).toEqual([0, { hold: true }]);
  const waiting = JSON.parse((await pool("creator.json", "patterns-held", templateId)).out) as {
    hold: boolean;
    patterns: { pattern_id: string; decision: string }[];
  };
  expect(waiting.hold).toBe(true);
  expect(waiting.patterns.map((p) => [p.pattern_id, p.decision])).toEqual([[patternId, "waiting"]]);
  const rejected = await pool("creator.json", "pattern-review", templateId, patternId, "reject");
  expect([rejected.code, JSON.parse(rejected.out || "{}")], rejected.err).toEqual([
    0,
    { pattern_id: patternId, decision: "rejected" },
  ]);
  const all = JSON.parse((await pool("creator.json", "patterns-held", templateId, "--all")).out) as {
    patterns: { decision: string }[];
  };
  expect(all.patterns.map((p) => p.decision)).toEqual(["rejected"]);

  expect((await pool("creator.json", "pattern-review", templateId, patternId, "maybe")).code).toBe(2);
  expect((await pool("creator.json", "pattern-hold", templateId, "perhaps")).code).toBe(2);
  const stranger = await pool("stranger.json", "pattern-hold", templateId, "off");
  expect(stranger.code).toBe(1);
  expect(JSON.parse(stranger.err)).toMatchObject({ error: { type: "not_found" } });
});
