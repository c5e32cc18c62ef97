// Agents back from a host lost for good (docs/scaling.md, "A host lost for
// good"): how long from the host marked lost until each of its agents answers
// again from another host.
// Run: flock /tmp/bench.lock npm run bench:rehome   (a throwaway PostgreSQL)
//   BENCH_REHOME_AGENTS (100)   claimed agents on the host that is lost
//
// What it does: the pool as deploy/compose.yaml runs it (e2e/src/deployed.ts:
// the template and claims services, the gateway, two instance hosts, each from
// its main.ts, the offline model) on the local XMTP node. Host B drains while
// the warm pool fills, so all N agents are claimed on host A, each into its
// own conversation of one creator (@xmtp/node-sdk, `startCreator`), and each
// answers once. Once A has kept every agent's sealed state with the claims
// service, A is killed (SIGKILL), its data directory deleted, and it is
// marked lost with the operator's command (hosts-cli.ts). Then each agent is
// watched as soon as its row names host B, and the time from the mark
// to its "I moved" message in the conversation is its time back; it is then
// asked something and must answer.
//
// What it does not exercise: automatic marking (HOST_LOST_AFTER_SECONDS is
// off; the operator marks at once), tools, a real model, and conversations
// with more than the creator and the agent.
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import pg from "pg";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { startCreator } from "@convos-pool/convos/testing";
import { DeployedPool } from "@convos-pool/e2e/deployed";
import { callerHeaders, createServiceClient, forEachLimited } from "@convos-pool/kit";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { closeAll, figures, fmt, size } from "./lib.js";

const N = size("BENCH_REHOME_AGENTS", 100, 3);
const say = (line: string) => process.stdout.write(`${line}\n`);

const pool = new DeployedPool({
  name: "bench_rehome",
  replicas: { "instance-host": 2 },
  vars: {
    INSTANCE_HOST_URLS: "http://instance-host:7100,http://instance-host-2:7100",
    // One creator claims every agent: its rate and caps are not what is measured.
    POOL_LIMITS: "claims.caller=off,claims.address=off,agents.owner=off,tools.owner=off",
  },
  sizing: { claims: { POOL_TARGET_IDLE: String(N), HOST_LOST_AFTER_SECONDS: "0" } },
});
await pool.start();
const [hostA, hostB] = [pool.url("instance-host"), pool.url("instance-host-2")];
const db = new pg.Pool({ connectionString: pool.databases.get("claims")!, max: 4 });

const creator = await startCreator(pool.url("xmtp"), pool.dir);
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
  const agents: { id: string; inboxId: string; groupId: string }[] = [];
  const setup = performance.now();
  await forEachLimited(
    Array.from({ length: N }, (_, i) => i),
    8,
    async (i) => {
      const { groupId, invite } = await creator.conversation(`rehome ${i}`);
      const { instanceId } = await claims.client.claim(
        { requester: creator.inboxId, templateId: template.id, conversationInvite: invite },
        { headers: callerHeaders(creator.inboxId), timeoutMs: 180_000 },
      );
      const r = (await db.query(`select inbox_id from instances where id = $1`, [instanceId])).rows[0] as {
        inbox_id: string;
      };
      await creator.ask(groupId, r.inbox_id, `Remember that agent ${i} keeps the number ${i * 7}.`, 60_000);
      agents.push({ id: instanceId, inboxId: r.inbox_id, groupId });
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
  const back: number[] = [];
  await forEachLimited(agents, 16, async (a) => {
    await waitFor(
      `agent ${a.id} on host B`,
      async () =>
        (await count(`select count(*)::int as n from instances where id = $1 and host_url = $2`, [a.id, hostB])) === 1,
      N * 5_000 + 120_000,
      250,
    );
    // Back once it speaks there again: its "I moved" notice, the first it can say once a member let its new
    // installation in (a message sent before that is one it cannot read). Then it answers.
    await waitFor(
      `agent ${a.id} saying it moved`,
      async () =>
        (await creator.transcript(a.groupId)).some(
          (l) => l.from === a.inboxId && l.sentAtNs > markedNs && /moved to another host/.test(l.text),
        ),
      180_000,
      250,
    );
    back.push(performance.now() - marked);
    await creator.ask(a.groupId, a.inboxId, `Which number does agent ${a.id} keep?`, 60_000);
  });
  const f = figures(back);
  const total = Math.max(...back);
  say(`host marked lost to each agent answering again from host B, ${N} agents:`);
  say(`  per agent: p50 ${fmt(f.p50 / 1000)} s, p99 ${fmt(f.p99 / 1000)} s`);
  say(`  every agent: ${fmt(total / 1000)} s, ${fmt(((total / 1000) * 100) / N)} s per 100 agents`);
} finally {
  await closeAll([
    ["creator", () => creator.close()],
    ["claims database", () => db.end()],
    ["pool", () => pool.close()],
  ]);
}
process.exit(0);
