// A host SIGKILLed in the minute its agents' reminders are due
// (docs/performance/schedules.md): the pool as deploy/compose.yaml runs it
// (e2e/src/deployed.ts: the template and claims services, the gateway, two
// instance hosts, each from its main.ts, the offline model) on the local
// XMTP node. Host B drains while N agents are claimed on host A, each into
// its own conversation (made by a @xmtp/node-sdk creator, `startCreator`),
// where its creator sets the time zone (a zone where it is daytime) and asks "remind me at HH:MM to water
// plant i", the same minute for all. Once A has kept every agent's state
// with the claims service, A is killed (SIGKILL) 5 s before that minute, its
// data directory deleted, and marked lost with the operator's command
// (hosts-cli.ts); the pool moves the agents to host B and the claims
// service's timers deliver each firing there. Each conversation is read from
// the network: its reminder's posts, counted, and how late the first came.
//
// Not exercised: automatic marking (the operator marks at once), many
// reminders per agent, a real model.
import { execFile } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { startCreator } from "@convos-pool/convos/testing";
import { DeployedPool } from "@convos-pool/e2e/deployed";
import { callerHeaders, createServiceClient, forEachLimited } from "@convos-pool/kit/server";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { closeAll, figures, NODE_WITHOUT_RATE_LIMITS } from "./lib.js";

/**
 * Zones to ask in: the first where the run's hour is daytime. The words read an hour of 1 to 6 as the
 * evening's (kit/time read.ts: "at 04:40" as 16:40), so a run at night asks in another zone.
 */
const ZONES = ["Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"];
/** How long before the reminders' minute host A is killed. */
const KILL_BEFORE_MS = 5_000;
/** How late a reminder may come (issue 80): within a minute of its time. */
export const FAILOVER_GOAL_MS = 60_000;
/** How long after the minute the conversations are read before the posts are counted. */
const WATCH_MS = 3 * 60_000;
/** A plant's name without digits, which the time words would read. */
const plantName = (i: number) =>
  `${String.fromCharCode(65 + (i % 26))}${i >= 26 ? String.fromCharCode(65 + Math.floor(i / 26)) : ""}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FailoverFigures {
  agents: number;
  /** Each agent's reminder posts, and how late its first came (ms after the minute; undefined: none). */
  posts: { count: number; lateMs: number | undefined }[];
  /** How long before the minute host A was killed, ms (negative: after it began). */
  killedBeforeMs: number;
  /** Deliveries the claims service tried again (the host dead, or lost and the agent not yet moved). */
  waitedForMove: number;
}

/** `at` as "HH:MM" in `zone`. */
const clockOf = (at: number, zone: string) =>
  new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);
/** The first of ZONES where `at` is between 8:00 and 21:59 (a run's setup takes minutes, not hours). */
const daytimeZone = (at: number) => ZONES.find((z) => /^(0[89]|1\d|2[01])/.test(clockOf(at, z))) ?? ZONES[0]!;

export async function hostKilledAtDue(n: number, say: (line: string) => void): Promise<FailoverFigures> {
  const pool = new DeployedPool({
    name: "bench_schedules_failover",
    replicas: { "instance-host": 2 },
    vars: {
      INSTANCE_HOST_URLS: "http://instance-host:7100,http://instance-host-2:7100",
      POOL_LIMITS: "claims.caller=off,claims.address=off,agents.owner=off,tools.owner=off",
    },
    sizing: { claims: { POOL_TARGET_IDLE: String(n), HOST_LOST_AFTER_SECONDS: "0" } },
    xmtpEnv: NODE_WITHOUT_RATE_LIMITS,
  });
  const zone = daytimeZone(Date.now());
  await pool.start();
  const [hostA, hostB] = [pool.url("instance-host"), pool.url("instance-host-2")];
  const db = new pg.Pool({ connectionString: pool.databases.get("claims")!, max: 4 });
  const dir = join(pool.dir, "creator");
  await mkdir(dir, { recursive: true });
  const creator = await startCreator(pool.url("xmtp"), dir);
  const count = async (sql: string, params: unknown[]) => Number((await db.query(sql, params)).rows[0]?.n ?? 0);
  const hostsCli = async (...args: string[]) =>
    (
      await promisify(execFile)("npx", ["tsx", "services/claims/src/hosts-cli.ts", ...args], {
        env: { ...process.env, DATABASE_URL: pool.databases.get("claims")!, INSTANCE_HOST_URLS: `${hostA},${hostB}` },
      })
    ).stdout;
  try {
    const t = createServiceClient(TemplateService, pool.url("templates"), pool.creds.gateway);
    const template = await signedTemplate(
      t.client,
      newIdentity(),
      sampleContent({ agent_name: "Keeper", tools: [] }),
      "public",
    ).finally(() => t.close());
    await hostsCli("drain", hostB);
    await waitFor(
      `${n} idle agents on host A`,
      async () =>
        (await count(`select count(*)::int as n from instances where state = 'idle' and host_url = $1`, [hostA])) >= n,
      n * 2_000 + 60_000,
      500,
    );
    const claims = createServiceClient(ClaimService, pool.url("claims"), pool.creds.gateway);
    const agents: { id: string; inboxId: string; groupId: string; name: string }[] = [];
    await forEachLimited(
      Array.from({ length: n }, (_, i) => i),
      4,
      async (i) => {
        const { groupId, invite } = await creator.conversation(`plants ${i}`);
        const { instanceId } = await claims.client.claim(
          { requester: creator.inboxId, templateId: template.id, conversationInvite: invite },
          { headers: callerHeaders(creator.inboxId), timeoutMs: 180_000 },
        );
        const { inbox_id } = (await db.query(`select inbox_id from instances where id = $1`, [instanceId])).rows[0] as {
          inbox_id: string;
        };
        await creator.ask(groupId, inbox_id, `Keeper, time zone ${zone}`, 60_000);
        agents.push({ id: instanceId, inboxId: inbox_id, groupId, name: plantName(i) });
      },
    );
    claims.close();
    await hostsCli("undrain", hostB);

    // One minute for all, far enough ahead for every reminder to be asked and every state kept.
    const minute = Math.ceil((Date.now() + 60_000 + n * 2_000) / 60_000) * 60_000;
    const asked = new Date();
    await forEachLimited(agents, 4, async (a) =>
      creator.ask(
        a.groupId,
        a.inboxId,
        `Keeper, remind me at ${clockOf(minute, zone)} to water plant ${a.name}`,
        60_000,
      ),
    );
    const due = await count(
      `select count(*)::int as n from schedule_items where instance_id = any($1) and next_at = $2`,
      [agents.map((a) => a.id), new Date(minute)],
    );
    if (due !== n) {
      const answers = await Promise.all(
        agents.map(async (a) => (await creator.transcript(a.groupId)).filter((l) => l.from === a.inboxId).at(-1)?.text),
      );
      throw new Error(`${due} of ${n} reminders due at ${new Date(minute).toISOString()}: ${answers.join(" | ")}`);
    }
    await waitFor(
      "every agent's state kept with the claims service since its reminder",
      async () =>
        (await count(`select count(*)::int as n from agent_states where instance_id = any($1) and updated_at > $2`, [
          agents.map((a) => a.id),
          asked,
        ])) === n,
      120_000,
      500,
    );
    say(`${n} agents claimed on host A, each with a reminder at ${clockOf(minute, zone)} ${zone}`);

    await sleep(Math.max(0, minute - KILL_BEFORE_MS - Date.now()));
    const dataDir = pool.envs.get("instance-host")!.INSTANCE_DATA_DIR!;
    const killedBeforeMs = minute - Date.now();
    await pool.killService("instance-host");
    await rm(dataDir, { recursive: true, force: true });
    await hostsCli("lost", hostA);

    const reminderOf = (a: (typeof agents)[number]) => `Reminder: water plant ${a.name}`;
    const read = () =>
      Promise.all(
        agents.map(async (a) => {
          const lines = await creator.transcript(a.groupId).catch(() => []);
          const posts = lines.filter((l) => l.from === a.inboxId && l.text === reminderOf(a));
          return {
            count: posts.length,
            lateMs: posts[0] ? Number(posts[0].sentAtNs / 1_000_000n) - minute : undefined,
          };
        }),
      );
    // Every conversation read until each has its post, then for 10 s more: a second post would be in by then.
    const until = minute + WATCH_MS;
    while (Date.now() < until && (await read()).some((p) => p.count === 0)) await sleep(1_000);
    await sleep(10_000);
    const posts = await read();
    const waitedForMove = await count(
      `select coalesce(sum(retry_count), 0)::int as n from schedule_timers.job
        where data->>'itemId' in (select id from schedule_items where instance_id = any($1))`,
      [agents.map((a) => a.id)],
    );
    return { agents: n, posts, killedBeforeMs, waitedForMove };
  } finally {
    await closeAll([
      ["the creator", () => creator.close()],
      ["the claims database", () => db.end()],
      ["the pool", () => pool.close()],
    ]);
  }
}

/** The figures' lines, and whether the goal is met: every reminder posted exactly once, within a minute of its time. */
export function failoverLines(f: FailoverFigures): { lines: string[]; met: boolean } {
  const once = f.posts.filter((p) => p.count === 1).length;
  const twice = f.posts.filter((p) => p.count > 1).length;
  const late = f.posts.flatMap((p) => (p.lateMs === undefined ? [] : [p.lateMs]));
  const fig = late.length ? figures(late) : undefined;
  const max = late.length ? Math.max(...late) : Number.NaN;
  const met = once === f.agents && max <= FAILOVER_GOAL_MS;
  const s = (ms: number) => (ms / 1000).toFixed(1);
  return {
    lines: [
      `host killed ${s(f.killedBeforeMs)} s before the minute its ${f.agents} agents' reminders are due, marked lost at once`,
      `  posted once ${once} of ${f.agents}, more than once ${twice}, never ${f.agents - once - twice}`,
      `  lateness (posted − due): p50 ${fig ? s(fig.p50) : "-"} s   max ${s(max)} s   ` +
        `(${f.waitedForMove} deliveries tried again before the move)`,
      `goal: every reminder posted exactly once, within ${FAILOVER_GOAL_MS / 1000} s of its time: ${met ? "met" : "missed"}`,
    ],
    met,
  };
}
