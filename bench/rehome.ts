// Agents back from a host lost for good (docs/scaling.md, "A host lost for
// good"): how long from the host marked lost until each of its agents answers
// again from another host.
// Run: flock /tmp/bench.lock npm run bench:rehome   (a throwaway PostgreSQL)
//   BENCH_REHOME_AGENTS (100)   claimed agents on the host that is lost
//   BENCH_REHOME_LIMITS (off)   "network": the local XMTP node keeps the network's rate limits
//                               (every host, agent and creator counted as one address)
//   BENCH_REHOME_WITHIN_MINUTES (6)  how long after the mark an agent may take to be back
//
// What it does: the pool as deploy/compose.yaml runs it (e2e/src/deployed.ts:
// the template and claims services, the gateway, two instance hosts, each from
// its main.ts, the offline model) on the local XMTP node. Host B drains while
// the warm pool fills, so all N agents are claimed on host A, each into its
// own conversation (made by one of N/10 creators, @xmtp/node-sdk
// `startCreator`, as conversations are made by many people), and each
// answers once. Once A has kept every agent's sealed state with the claims
// service, A is killed (SIGKILL), its data directory deleted, and it is
// marked lost with the operator's command (hosts-cli.ts). Then each agent is
// watched as soon as its row names host B, and the time from the mark
// to its "I moved" message in the conversation is its time back; it is then
// asked something and must answer.
//
// What it does not exercise: automatic marking (HOST_LOST_AFTER_SECONDS is
// off; the operator marks at once), tools, a real model, and conversations
// with more than the creator and the agent. An agent not back within its
// time is reported, not waited for.
import { execFile } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import pg from "pg";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { startCreator } from "@convos-pool/convos/testing";
import { DeployedPool } from "@convos-pool/e2e/deployed";
import { callerHeaders, createServiceClient, forEachLimited } from "@convos-pool/kit/server";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { closeAll, figures, fmt, NODE_WITHOUT_RATE_LIMITS, size } from "./lib.js";

const N = size("BENCH_REHOME_AGENTS", 100, 3);
const CONVERSATIONS_PER_CREATOR = 10;
/** How long after the mark an agent may take to say it moved before it counts as not back. */
const BACK_WITHIN_MS = size("BENCH_REHOME_WITHIN_MINUTES", 6, 6) * 60_000;
const LIMITED = process.env.BENCH_REHOME_LIMITS === "network";
// With the network's limits every read counts against the one address too: the watch looks less often, and
// a moved agent's answer (its sends retried past the limit: platform/sends.ts) may take minutes.
const LOOK_EVERY_MS = LIMITED ? 10_000 : 1_000;
const ANSWER_WITHIN_MS = LIMITED ? 300_000 : 60_000;
const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pool = new DeployedPool({
  name: "bench_rehome",
  replicas: { "instance-host": 2 },
  vars: {
    INSTANCE_HOST_URLS: "http://instance-host:7100,http://instance-host-2:7100",
    // One creator claims every agent: its rate and caps are not what is measured.
    POOL_LIMITS: "claims.caller=off,claims.address=off,agents.owner=off,tools.owner=off",
  },
  sizing: { claims: { POOL_TARGET_IDLE: String(N), HOST_LOST_AFTER_SECONDS: "0" } },
  // The creators stand for people on devices of their own, yet call from the hosts' 127.0.0.1 (bench/lib.ts).
  ...(LIMITED ? {} : { xmtpEnv: NODE_WITHOUT_RATE_LIMITS }),
});
await pool.start();
const [hostA, hostB] = [pool.url("instance-host"), pool.url("instance-host-2")];
const db = new pg.Pool({ connectionString: pool.databases.get("claims")!, max: 4 });

/**
 * A moved agent, asked what it was taught, answers: the creator's question
 * sent (again while the network refuses it), then its answer read from the
 * network (the transcript), not only from the creator's stream.
 */
async function answers(a: {
  id: string;
  inboxId: string;
  groupId: string;
  creator: Awaited<ReturnType<typeof startCreator>>;
}): Promise<boolean> {
  const until = performance.now() + ANSWER_WITHIN_MS;
  const askedNs = BigInt(Date.now()) * 1_000_000n;
  for (;;) {
    try {
      await a.creator.send(a.groupId, `Which number does agent ${a.id} keep?`);
      break;
    } catch {
      if (performance.now() > until) return false;
      await sleep(2_000);
    }
  }
  while (performance.now() < until) {
    const lines = await a.creator.transcript(a.groupId).catch(() => []);
    if (lines.some((l) => l.from === a.inboxId && l.sentAtNs > askedNs)) return true;
    await sleep(LOOK_EVERY_MS / 2);
  }
  return false;
}

/**
 * The people who made the conversations, each the creator of ten: a
 * conversation's creator is someone's own device, and one client committing
 * for every conversation would measure that client, not the move.
 */
const creators = await Promise.all(
  Array.from({ length: Math.ceil(N / CONVERSATIONS_PER_CREATOR) }, async (_, k) => {
    const dir = join(pool.dir, `creator-${k}`);
    await mkdir(dir, { recursive: true });
    return startCreator(pool.url("xmtp"), dir);
  }),
);
const count = async (sql: string, params: unknown[]) => Number((await db.query(sql, params)).rows[0]?.n ?? 0);
const hostsCli = async (...args: string[]) =>
  (
    await promisify(execFile)("npx", ["tsx", "services/claims/src/hosts-cli.ts", ...args], {
      env: { ...process.env, DATABASE_URL: pool.databases.get("claims")!, INSTANCE_HOST_URLS: `${hostA},${hostB}` },
    })
  ).stdout;

try {
  const t = createServiceClient(TemplateService, pool.url("templates"), pool.creds.gateway);
  const template = await signedTemplate(t.client, newIdentity(), sampleContent({ tools: [] }), "public");
  t.close();
  await hostsCli("drain", hostB);
  await waitFor(
    `${N} idle agents on host A`,
    async () =>
      (await count(`select count(*)::int as n from instances where state = 'idle' and host_url = $1`, [hostA])) >= N,
    N * 2_000 + 60_000,
    500,
  );
  const claims = createServiceClient(ClaimService, pool.url("claims"), pool.creds.gateway);
  const agents: { id: string; inboxId: string; groupId: string; creator: (typeof creators)[number] }[] = [];
  const setup = performance.now();
  await forEachLimited(
    Array.from({ length: N }, (_, i) => i),
    8,
    async (i) => {
      const creator = creators[i % creators.length]!;
      const { groupId, invite } = await creator.conversation(`rehome ${i}`);
      const { instanceId } = await claims.client.claim(
        { requester: creator.inboxId, templateId: template.id, conversationInvite: invite },
        { headers: callerHeaders(creator.inboxId), timeoutMs: 180_000 },
      );
      const r = (await db.query(`select inbox_id from instances where id = $1`, [instanceId])).rows[0] as {
        inbox_id: string;
      };
      await creator.ask(groupId, r.inbox_id, `Remember that agent ${i} keeps the number ${i * 7}.`, 60_000);
      agents.push({ id: instanceId, inboxId: r.inbox_id, groupId, creator });
    },
  );
  claims.close();
  say(`${N} agents claimed on host A and taught: ${((performance.now() - setup) / 1000).toFixed(1)} s`);
  await hostsCli("undrain", hostB);
  await waitFor(
    "every agent's state kept with the claims service",
    async () =>
      (await count(`select count(*)::int as n from agent_states where instance_id = any($1)`, [
        agents.map((a) => a.id),
      ])) === N,
    120_000,
    500,
  );

  const dataDir = pool.envs.get("instance-host")!.INSTANCE_DATA_DIR!;
  await pool.killService("instance-host");
  await rm(dataDir, { recursive: true, force: true });
  const marked = performance.now();
  const markedNs = BigInt(Date.now()) * 1_000_000n;
  await hostsCli("lost", hostA);
  // Every agent watched at once, each pass over those not back yet, so one late agent delays no other's
  // time. Back once it speaks there again: its "I moved" notice, the first it can say once a member let
  // its new installation in (a message sent before that is one it cannot read). Then it is asked and answers.
  const back: number[] = [];
  const waiting = new Set(agents);
  const unanswered: string[] = [];
  const asked: Promise<void>[] = [];
  while (waiting.size > 0 && performance.now() - marked < BACK_WITHIN_MS) {
    await forEachLimited([...waiting], 16, async (a) => {
      const lines = await a.creator.transcript(a.groupId);
      if (!lines.some((l) => l.from === a.inboxId && l.sentAtNs > markedNs && /moved to another host/.test(l.text)))
        return;
      back.push(performance.now() - marked);
      waiting.delete(a);
      asked.push(answers(a).then((ok) => void (ok || unanswered.push(a.id))));
    });
    await sleep(LOOK_EVERY_MS);
  }
  await Promise.all(asked);
  if (waiting.size || unanswered.length) {
    say(
      `not back: ${waiting.size} did not say they moved within ${BACK_WITHIN_MS / 1000} s of the mark, ` +
        `${unanswered.length} said so but did not answer within ${ANSWER_WITHIN_MS / 1000} s`,
    );
    // What the pool's logs last said of each, to find why (each process's lines in time order).
    const timeOf = (line: string) => /"time":"([^"]+)"/.exec(line)?.[1] ?? "";
    const lines = pool.logLines();
    for (const id of [...[...waiting].map((a) => a.id), ...unanswered].slice(0, 10)) {
      say(`  ${id}:`);
      // The host's lines first (the agent's own), then the claims service's.
      const named = lines.filter((l) => l.includes(id)).sort((x, y) => (timeOf(x) < timeOf(y) ? -1 : 1));
      const claims = named.filter((l) => l.includes('"name":"claims"'));
      const own = named.filter((l) => !claims.includes(l));
      for (const l of [...own.slice(-6), ...claims.slice(-2)]) say(`    ${l.slice(0, 400)}`);
    }
    const refusals = creators.flatMap((c) => c.errors);
    if (refusals.length)
      say(`  the creators' clients failed ${refusals.length} times, last: ${refusals.at(-1)?.slice(0, 200)}`);
  }
  const f = figures(back);
  const total = Math.max(...back);
  say(`host marked lost to each agent answering again from host B, ${back.length} of ${N} agents back:`);
  say(`  per agent: p50 ${fmt(f.p50 / 1000)} s, p99 ${fmt(f.p99 / 1000)} s`);
  if (waiting.size === 0)
    say(`  every agent: ${fmt(total / 1000)} s, ${fmt(((total / 1000) * 100) / N)} s per 100 agents`);
  else say(`  the last of the ${back.length} back: ${fmt(total / 1000)} s`);
  // What the network's limit cost the move: restores refused and tried again, agents started again by host B.
  const lines = pool.logLines();
  const logged = (text: string) => lines.filter((l) => l.includes(text)).length;
  say(
    `XMTP node rate limits ${LIMITED ? "on (the network's)" : "off"}: ` +
      `${logged("an agent of a lost host was not moved yet")} restores tried again, ` +
      `${logged("a crashed agent started again")} agents started again by their new host`,
  );
} finally {
  await closeAll([
    ["creators", () => Promise.all(creators.map((c) => c.close()))],
    ["claims database", () => db.end()],
    ["pool", () => pool.close()],
  ]);
}
process.exit(0);
