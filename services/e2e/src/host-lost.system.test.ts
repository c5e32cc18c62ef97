// A host lost for good loses no agent (docs/scaling.md, "A host lost for
// good"), with real processes: the template and claims services, the gateway
// and two real instance hosts, each from its main.ts with the environment
// deploy/compose.yaml gives it (e2e/src/deployed.ts), on the test PostgreSQL
// server and the local XMTP node, the agents on the offline model. Three
// conversations, each created by a Convos CLI (`agent serve`) whose person
// claims an agent into it and teaches it something. Every agent is on host A
// (host B drains while they are claimed). Host A is killed (SIGKILL), its data
// directory deleted, and marked lost by the operator's command
// (hosts-cli.ts). Every agent then answers from host B, says it moved,
// remembers what it was taught, and its inbox has one installation on the
// XMTP node: the new one.
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, createBackend } from "@xmtp/node-sdk";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { callerHeaders, createServiceClient } from "@convos-pool/kit/server";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { ask, ConvosCli, said, type ReadyEvent } from "@convos-pool/testing/convos-cli";
import { DeployedPool } from "./deployed.js";

const t0 = Date.now();
const note = (what: string) => console.log(`host-lost: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

/** What each conversation's person teaches its agent, and how they ask for it back. */
const TAUGHT = [
  { fact: "my boat is called Blue Heron", question: "Do you remember anything about my boat?", answer: /Blue Heron/ },
  { fact: "my sister lives in Tromso", question: "Do you remember anything about my sister?", answer: /Tromso/ },
  {
    fact: "the spare key is under the green pot",
    question: "Do you remember anything about the key?",
    answer: /green pot/,
  },
];

interface Person {
  cli: ConvosCli;
  ready: ReadyEvent;
  instanceId: string;
  inboxId: string;
}

let pool: DeployedPool;
let claimsDb: pg.Client;
let template: Template;
let hostA: string;
let hostB: string;
const people: Person[] = [];
/** Every CLI started, stopped at the end however far the test got. */
const clis: ConvosCli[] = [];

const rows = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  (await claimsDb.query(sql, params)).rows as T[];

/** The operator's command (services/claims/src/hosts-cli.ts), as run beside the claims service. */
async function hostsCli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)("npx", ["tsx", "services/claims/src/hosts-cli.ts", ...args], {
    env: {
      ...process.env,
      DATABASE_URL: pool.databases.get("claims")!,
      INSTANCE_HOST_URLS: [hostA, hostB].join(","),
    },
  });
  return stdout;
}

beforeAll(async () => {
  pool = new DeployedPool({
    name: "host_lost",
    replicas: { "instance-host": 2 },
    vars: {
      INSTANCE_HOST_URLS: "http://instance-host:7100,http://instance-host-2:7100",
      POOL_TOOLS_WITHOUT_GRANT: "sms,email",
    },
    // Only the operator marks a host lost here: the test says when.
    sizing: { claims: { POOL_TARGET_IDLE: String(TAUGHT.length), HOST_LOST_AFTER_SECONDS: "0" } },
  });
  await pool.start();
  [hostA, hostB] = [pool.url("instance-host"), pool.url("instance-host-2")];
  claimsDb = new pg.Client({ connectionString: pool.databases.get("claims")! });
  await claimsDb.connect();
  const t = createServiceClient(TemplateService, pool.url("templates"), pool.creds.gateway);
  try {
    template = await signedTemplate(
      t.client,
      newIdentity(),
      sampleContent({ agent_name: "Keeper", tools: [] }),
      "public",
    );
  } finally {
    t.close();
  }
  // Every agent on A: B drains while they are claimed, so the warm pool is all on A.
  await hostsCli("drain", hostB);
  await waitFor(
    `${TAUGHT.length} idle agents on host A alone`,
    async () =>
      (
        await rows<{ a: number; b: number }>(
          `select count(*) filter (where host_url = $1)::int as a, count(*) filter (where host_url = $2)::int as b
           from instances where state = 'idle'`,
          [hostA, hostB],
        )
      ).every((r) => r.a >= TAUGHT.length && r.b === 0),
    120_000,
    250,
  );
  const claims = createServiceClient(ClaimService, pool.url("claims"), pool.creds.gateway);
  try {
    for (const [n, taught] of TAUGHT.entries()) {
      const cli = await ConvosCli.start(
        ["agent", "serve", "--name", `Lost host ${n + 1}`, "--profile-name", `Person ${n + 1}`],
        join(pool.dir, `cli-${n + 1}`),
        { xmtpPort: pool.xmtp!.port },
      );
      clis.push(cli);
      const ready = await cli.ready();
      const { instanceId } = await claims.client.claim(
        { requester: ready.inboxId, templateId: template.id, conversationInvite: ready.inviteUrl },
        { headers: callerHeaders(ready.inboxId), timeoutMs: 120_000 },
      );
      const [row] = await rows<{ inbox_id: string; host_url: string }>(
        `select inbox_id, host_url from instances where id = $1`,
        [instanceId],
      );
      expect(row?.host_url).toBe(hostA);
      const person = { cli, ready, instanceId, inboxId: row!.inbox_id };
      people.push(person);
      await ask(cli, person, `Remember that ${taught.fact}.`, /./, 60_000);
      expect(await ask(cli, person, taught.question, taught.answer, 60_000)).toMatch(taught.answer);
    }
  } finally {
    claims.close();
  }
  await hostsCli("undrain", hostB);
  // Host A keeps each agent's sealed state with the claims service: wait until it holds what was taught.
  await waitFor(
    "every agent's state kept since it was taught",
    async () =>
      (
        await rows<{ n: number }>(
          `select count(*)::int as n from agent_states where instance_id = any($1) and updated_at > now() - interval '10 minutes'`,
          [people.map((p) => p.instanceId)],
        )
      )[0]!.n === people.length,
    60_000,
    250,
  );
  // And marks each one at the lineage service, signed by the agent: the restore below opens nothing older.
  const lineageDb = new pg.Client({ connectionString: pool.databases.get("lineage")! });
  await lineageDb.connect();
  try {
    await waitFor(
      "every agent's kept state marked at the lineage service",
      async () => {
        const ids = people.map((p) => p.instanceId);
        const kept = await rows<{ id: string; sequence: string }>(
          `select instance_id as id, sequence::text from agent_states where instance_id = any($1)`,
          [ids],
        );
        const marks = (
          await lineageDb.query(
            `select instance_id as id, sequence::text from agent_state_marks where instance_id = any($1)`,
            [ids],
          )
        ).rows as { id: string; sequence: string }[];
        const marked = new Map(marks.map((m) => [m.id, m.sequence]));
        return kept.length === people.length && kept.every((k) => marked.get(k.id) === k.sequence);
      },
      60_000,
      250,
    );
  } finally {
    await lineageDb.end();
  }
  note("agents claimed and taught on host A");
}, 600_000);

afterAll(async () => {
  for (const cli of clis) await cli.stop().catch(() => undefined);
  await claimsDb?.end().catch(() => undefined);
  await pool?.close();
}, 120_000);

describe("a host lost for good", () => {
  it("every agent of the lost host answers again from the other, says it moved, remembers what it was taught, and has one installation", async () => {
    const dataDir = pool.envs.get("instance-host")!.INSTANCE_DATA_DIR!;
    const from = people.map((p) => p.cli.events.length);
    await pool.killService("instance-host");
    await rm(dataDir, { recursive: true, force: true });
    const marked = Date.now();
    expect(await hostsCli("lost", hostA)).toContain("is lost");
    note("host A killed, its disk deleted, marked lost");

    await waitFor(
      "every agent of host A recorded on host B",
      async () =>
        (
          await rows<{ n: number }>(
            `select count(*)::int as n from instances where id = any($1) and host_url = $2 and state = 'claimed'`,
            [people.map((p) => p.instanceId), hostB],
          )
        )[0]!.n === people.length,
      180_000,
      250,
    );
    note(`every agent moved (${((Date.now() - marked) / 1000).toFixed(1)} s after the mark)`);

    const backend = await createBackend({ env: "local", apiUrl: pool.url("xmtp") });
    for (const [n, p] of people.entries()) {
      await said(p.cli, p, from[n]!, /moved/i, 120_000);
      expect(await ask(p.cli, p, TAUGHT[n]!.question, TAUGHT[n]!.answer, 60_000)).toMatch(TAUGHT[n]!.answer);
      const [state] = await Client.fetchInboxStates([p.inboxId], backend);
      expect(state?.installations, `installations of ${p.instanceId}`).toHaveLength(1);
    }
    note("every agent answered from host B");
  }, 600_000);
});
