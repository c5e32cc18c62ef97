// A reminder kept across a host lost for good and across a crash mid-firing
// (docs/schedules.md, "The firing"; docs/reliability.md), with real
// processes: the template and claims services (its pg-boss timers), the
// gateway and two real instance hosts, each from its main.ts with the
// environment deploy/compose.yaml gives it (e2e/src/deployed.ts), on the test
// PostgreSQL server and the local XMTP node, the agent on the offline model
// (the pool's own words answer a request of time). A Convos CLI (`agent
// serve`) makes the conversation and its person claims the agent into it,
// on host A (host B drains meanwhile), and asks for a reminder in 2 minutes.
//
// 1. Host A is killed (SIGKILL) 5 s before the reminder's time, its data
//    directory deleted, and marked lost by the operator's command
//    (hosts-cli.ts); the pool moves the agent to host B. The reminder is
//    posted once in the conversation, as the CLI reads it, within a minute
//    of its time, from host B, its firing id that of its occurrence.
// 2. A crash between the delivery and the item moved on: the claims service
//    is killed (SIGKILL) and the item and its pg-boss job put back as such a
//    crash leaves them (the item's next_at as it was, the job to be tried
//    again: the one stand-in, as the moment between the host's answer and
//    the claims service's write cannot be hit from outside). Restarted, the
//    claims service delivers the firing again; host B answers already done
//    and the conversation still holds one post.
// The firing ids are read from the processes' logs ("schedule firing
// posted"), not from the post's content: the CLI prints a post's text alone.
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { callerHeaders, createServiceClient } from "@convos-pool/kit/server";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { ask, ConvosCli, type MessageEvent, type ReadyEvent } from "@convos-pool/testing/convos-cli";
import { DeployedPool } from "./deployed.js";

const t0 = Date.now();
const note = (what: string) => console.log(`schedules-failover: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const REMINDER = "Reminder: water the plants";
/** How long before the reminder's time host A is killed: the firing comes while the agent is not yet moved. */
const KILL_BEFORE_MS = 5_000;
/** How late the reminder may come after its time (issue 80: within a minute). */
const LATE_AT_MOST_MS = 60_000;

let pool: DeployedPool;
let claimsDb: pg.Client;
let cli: ConvosCli;
let ready: ReadyEvent;
let hostA: string;
let hostB: string;
let agent: { instanceId: string; inboxId: string };
let item: { id: string; at: number };

const rows = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  (await claimsDb.query(sql, params)).rows as T[];

/** The operator's command (services/claims/src/hosts-cli.ts), as run beside the claims service. */
async function hostsCli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)("npx", ["tsx", "services/claims/src/hosts-cli.ts", ...args], {
    env: { ...process.env, DATABASE_URL: pool.databases.get("claims")!, INSTANCE_HOST_URLS: [hostA, hostB].join(",") },
  });
  return stdout;
}

/** The agent's posts of the reminder, as the person's CLI reads the conversation. */
const reminders = () =>
  cli.events.filter(
    (e): e is MessageEvent => e.event === "message" && e.senderInboxId === agent.inboxId && e.content === REMINDER,
  );

/** The processes' log lines (those since killed included) that hold every one of `words`. */
const logged = (...words: string[]) => pool.logLines().filter((l) => words.every((w) => l.includes(w)));

const firingIdOf = (itemId: string, at: number) => `${itemId}@${new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z")}`;

/** Waits until the agent's state, as it is after `since`, is kept by the claims service and marked at lineage. */
async function stateKeptSince(since: Date): Promise<void> {
  const lineageDb = new pg.Client({ connectionString: pool.databases.get("lineage")! });
  await lineageDb.connect();
  try {
    await waitFor(
      "the agent's state kept and marked",
      async () => {
        const [kept] = await rows<{ sequence: string }>(
          `select sequence::text from agent_states where instance_id = $1 and updated_at > $2`,
          [agent.instanceId, since],
        );
        const { rows: marks } = await lineageDb.query<{ sequence: string }>(
          `select sequence::text from agent_state_marks where instance_id = $1`,
          [agent.instanceId],
        );
        return kept !== undefined && marks[0]?.sequence === kept.sequence;
      },
      60_000,
      250,
    );
  } finally {
    await lineageDb.end();
  }
}

beforeAll(async () => {
  pool = new DeployedPool({
    name: "schedules_failover",
    replicas: { "instance-host": 2 },
    vars: { INSTANCE_HOST_URLS: "http://instance-host:7100,http://instance-host-2:7100" },
    // Only the operator marks a host lost here: the test says when.
    sizing: { claims: { POOL_TARGET_IDLE: "1", HOST_LOST_AFTER_SECONDS: "0" } },
  });
  await pool.start();
  [hostA, hostB] = [pool.url("instance-host"), pool.url("instance-host-2")];
  claimsDb = new pg.Client({ connectionString: pool.databases.get("claims")! });
  await claimsDb.connect();
  const t = createServiceClient(TemplateService, pool.url("templates"), pool.creds.gateway);
  const template = await signedTemplate(
    t.client,
    newIdentity(),
    sampleContent({ agent_name: "Keeper", tools: [] }),
    "public",
  ).finally(() => t.close());
  // The agent on A: B drains while it is claimed.
  await hostsCli("drain", hostB);
  await waitFor(
    "an idle agent on host A",
    async () => (await rows(`select 1 from instances where state = 'idle' and host_url = $1`, [hostA])).length > 0,
    120_000,
    250,
  );
  cli = await ConvosCli.start(
    ["agent", "serve", "--name", "Garden", "--profile-name", "Rosa"],
    join(pool.dir, "cli-rosa"),
    { xmtpPort: pool.xmtp!.port },
  );
  ready = await cli.ready();
  const claims = createServiceClient(ClaimService, pool.url("claims"), pool.creds.gateway);
  const { instanceId } = await claims.client
    .claim(
      { requester: ready.inboxId, templateId: template.id, conversationInvite: ready.inviteUrl },
      { headers: callerHeaders(ready.inboxId), timeoutMs: 120_000 },
    )
    .finally(() => claims.close());
  const [row] = await rows<{ inbox_id: string; host_url: string }>(
    `select inbox_id, host_url from instances where id = $1`,
    [instanceId],
  );
  expect(row?.host_url).toBe(hostA);
  agent = { instanceId, inboxId: row!.inbox_id };
  await hostsCli("undrain", hostB);
  note("agent claimed on host A");
}, 600_000);

afterAll(async () => {
  await cli?.stop().catch(() => undefined);
  await claimsDb?.end().catch(() => undefined);
  await pool?.close();
}, 120_000);

describe("a reminder across failures", () => {
  it("is posted once, within a minute of its time, from the host the agent moved to when its own was killed before its minute", async () => {
    const person = { inboxId: agent.inboxId };
    expect(await ask(cli, person, "Keeper, time zone Europe/Paris", /time zone is now/, 60_000)).toBe(
      "This conversation's time zone is now Europe/Paris.",
    );
    const since = new Date();
    expect(
      await ask(cli, person, "Keeper, remind us in 2 minutes to water the plants", /^I'll remind you/, 60_000),
    ).toMatch(/^I'll remind you (today|tomorrow) at \d{1,2}:\d{2} \(Europe\/Paris\): water the plants$/);
    const [row] = await rows<{ id: string; next_at: Date }>(
      `select id, next_at from schedule_items where instance_id = $1`,
      [agent.instanceId],
    );
    item = { id: row!.id, at: row!.next_at.getTime() };
    await stateKeptSince(since);

    const killAt = item.at - KILL_BEFORE_MS;
    await new Promise((r) => setTimeout(r, Math.max(0, killAt - Date.now())));
    expect(Date.now(), "host A killed before the reminder's time").toBeLessThan(item.at);
    const dataDir = pool.envs.get("instance-host")!.INSTANCE_DATA_DIR!;
    const killedBefore = item.at - Date.now();
    await pool.killService("instance-host");
    await rm(dataDir, { recursive: true, force: true });
    expect(await hostsCli("lost", hostA)).toContain("is lost");
    note(
      `host A killed ${(killedBefore / 1000).toFixed(1)} s before the reminder's time, marked lost at ${((Date.now() - item.at) / 1000).toFixed(1)} s from it`,
    );

    await waitFor("the reminder posted", () => reminders().length > 0, item.at + 2 * LATE_AT_MOST_MS - Date.now(), 100);
    const late = Date.now() - item.at;
    const [job] = await rows<{ retry_count: number }>(
      `select retry_count from schedule_timers.job where data->>'itemId' = $1 and (data->>'at')::bigint = $2`,
      [item.id, item.at],
    );
    note(
      `reminder posted ${(late / 1000).toFixed(1)} s after its time, its delivery tried again ${job?.retry_count} times`,
    );
    expect(late, "ms after the reminder's time").toBeLessThanOrEqual(LATE_AT_MOST_MS);
    const [moved] = await rows<{ host_url: string }>(`select host_url from instances where id = $1`, [
      agent.instanceId,
    ]);
    expect(moved?.host_url).toBe(hostB);
    const firingId = firingIdOf(item.id, item.at);
    await waitFor(
      "the claims service to move the item on",
      async () =>
        (await rows(`select 1 from schedule_items where id = $1 and last_firing_id = $2`, [item.id, firingId]))
          .length === 1,
      30_000,
      200,
    );
    // A second post would be on its way by now; a moment more for it to reach the CLI.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(reminders()).toHaveLength(1);
    expect(logged("schedule firing posted", firingId)).toHaveLength(1);
  }, 600_000);

  it("a firing delivered again after the claims service crashed between delivery and moving on posts nothing more", async () => {
    expect(item, "the first test's reminder").toBeDefined();
    const firingId = firingIdOf(item.id, item.at);
    await pool.killService("claims");
    // As the crash leaves them: the item at its occurrence, the firing's job to be tried again.
    expect(
      await rows(`update schedule_items set next_at = $2, last_firing_id = null where id = $1 returning id`, [
        item.id,
        new Date(item.at),
      ]),
    ).toHaveLength(1);
    expect(
      await rows(
        `update schedule_timers.job set state = 'retry', start_after = now(), completed_on = null
          where data->>'itemId' = $1 and (data->>'at')::bigint = $2 returning id`,
        [item.id, item.at],
      ),
    ).toHaveLength(1);
    const before = logged("schedule fired", firingId).length;
    await pool.startService("claims");
    note("claims service killed, the firing put back, restarted");

    await waitFor(
      "the firing delivered again and the item moved on",
      async () =>
        (await rows(`select 1 from schedule_items where id = $1 and last_firing_id = $2`, [item.id, firingId]))
          .length === 1,
      120_000,
      200,
    );
    const again = logged("schedule fired", firingId).slice(before);
    expect(again, "the claims service's log of the second delivery").toHaveLength(1);
    expect(again[0]).toMatch(/"alreadyDone":\s*true/);
    expect(again[0]).toContain(hostB);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(reminders()).toHaveLength(1);
    expect(logged("schedule firing posted", firingId)).toHaveLength(1);
  }, 300_000);
});
