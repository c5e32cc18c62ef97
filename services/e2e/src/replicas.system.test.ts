// More than one of everything (docs/scaling.md), with real
// processes: two replicas each of the templates, claims and lineage
// services and of the gateway, and two real instance hosts, all as
// deploy/compose.yaml runs them (e2e/src/deployed.ts), on one PostgreSQL
// server, with the local XMTP node and a Convos creator whose conversations
// the agents join. A burst of claims goes through both claims services with
// a template update in the middle; one claims service and one instance host
// are killed (SIGKILL) during it, the host restarted as a StatefulSet would.
// A burst of claims from one client address split across both gateways is
// held to one allowance (docs/limits.md). Then a host is drained. After each, the fault suite's checker
// (e2e/src/invariants.ts) must hold, and each agent applied each version at
// most once, as the hosts' own logs say.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { startCreator } from "@convos-pool/convos/testing";
import { EXTRACTION_PROMPT, CHOOSER_PROMPT, chooseByRuleAnswer } from "@convos-pool/instance";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { callerHeaders, createServiceClient } from "@convos-pool/kit/server";
import { signInJson, signSignIn } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate, signedUpdate, tool } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { DeployedPool, type ProcessName } from "./deployed.js";
import { invariantsHold, type World } from "./invariants.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const note = (what: string) => console.log(`replicas: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const TARGET = 6;
const CLAIMS_PER_ADDRESS = 6;

let llm: ChatServer;
let pool: DeployedPool;
let creator: Awaited<ReturnType<typeof startCreator>>;
let world: World;
let template: Template;
let hostUrls: string[];
const author = newIdentity();

const CLAIMS: ProcessName[] = ["claims", "claims-2"];

/** A client of one claims replica, as the gateway calls it. */
async function claimAt(replica: ProcessName, key: string, invite: string): Promise<string> {
  const c = createServiceClient(ClaimService, pool.url(replica), pool.creds.gateway);
  try {
    const res = await c.client.claim(
      { requester: creator.inboxId, templateId: template.id, conversationInvite: invite, idempotencyKey: key },
      { headers: callerHeaders(creator.inboxId), timeoutMs: 60_000 },
    );
    return res.instanceId;
  } finally {
    c.close();
  }
}

/** Codes a client retries with the same key (the answer lost, the service away, no agent idle just then). */
const RETRIED = [
  Code.Unavailable,
  Code.Canceled,
  Code.DeadlineExceeded,
  Code.Unknown,
  Code.Internal,
  Code.ResourceExhausted,
];

/**
 * A careful client behind a load balancer: claims at one replica, and while
 * the answer is lost retries with the same key at the next one that runs.
 */
async function claimUntilAnswered(
  i: number,
  key: string,
  invite: string,
  ms = 150_000,
): Promise<{ instanceId?: string; code?: Code; tries: number }> {
  const end = Date.now() + ms;
  for (let tries = 1; ; tries++) {
    const live = CLAIMS.filter((r) => pool.processes.has(r));
    const replica = live[(i + tries) % live.length]!;
    try {
      return { instanceId: await claimAt(replica, key, invite), tries };
    } catch (err) {
      const e = ConnectError.from(err);
      if (!RETRIED.includes(e.code) || Date.now() > end) return { code: e.code, tries };
      await sleep(1_000); // the scenario: a client's pause before it tries again
    }
  }
}

const rows = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  (await world.claimsDb.query(sql, params)).rows as T[];

/** Waits for `check`; when it times out, says where the instances are. */
async function until(what: string, check: () => Promise<boolean>, ms = 90_000): Promise<void> {
  await waitFor(what, check, ms, 250).catch(async (err: unknown) => {
    throw new Error(
      `${(err as Error).message}; instances: ${JSON.stringify(await rows(`select host_url, state, count(*)::int as n from instances group by 1, 2 order by 1, 2`))}`,
    );
  });
}

const idleOn = async (url: string) =>
  Number(
    (
      await rows<{ n: number }>(
        `select count(*)::int as n from instances where state in ('idle', 'starting') and host_url = $1`,
        [url],
      )
    )[0]!.n,
  );

/** Resolves when a line matching `pattern` appears in `name`'s output after `from` lines. */
function lineOf(name: ProcessName, pattern: RegExp, from: number, ms = 60_000): Promise<void> {
  return waitFor(
    `a line matching ${pattern} from ${name}`,
    () =>
      pool.processes
        .get(name)
        ?.lines.slice(from)
        .some((l) => pattern.test(l)) ?? false,
    ms,
    5,
  );
}

/** Says `text` to the agent of a conversation; the checker wants it answered. */
async function ask(groupId: string, text: string): Promise<void> {
  world.asked.set(groupId, [...(world.asked.get(groupId) ?? []), text]);
  await creator.send(groupId, text);
}

/** "template updated" lines of every host process (killed ones too), by instance and version. */
function updatesApplied(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of pool.logLines()) {
    if (!line.includes('"template updated"')) continue;
    const l = JSON.parse(line) as { instanceId: string; templateVersion: number };
    out.set(l.instanceId, [...(out.get(l.instanceId) ?? []), l.templateVersion]);
  }
  return out;
}

/** The operator's command (services/claims/src/hosts-cli.ts), as run beside the claims service. */
async function hostsCli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)("npx", ["tsx", "services/claims/src/hosts-cli.ts", ...args], {
    env: { ...process.env, DATABASE_URL: pool.databases.get("claims")!, INSTANCE_HOST_URLS: hostUrls.join(",") },
  });
  return stdout;
}

beforeAll(async () => {
  llm = await startChatServer(async (req) => {
    if (req.body.messages[0]?.content.startsWith(EXTRACTION_PROMPT)) return '{"entries":[]}';
    if (req.body.messages[0]?.content.startsWith(CHOOSER_PROMPT))
      return chooseByRuleAnswer(req.body.messages.at(-1)?.content ?? "");
    return `Noted (${(req.body.messages.at(-1)?.content ?? "").length} chars).`;
  });
  pool = new DeployedPool({
    name: "replicas",
    replicas: { templates: 2, lineage: 2, "instance-host": 2, claims: 2, gateway: 2 },
    vars: {
      LLM_BASE_URL: llm.baseUrl,
      LLM_API_KEY: "sk-replicas",
      INSTANCE_HOST_URLS: "http://instance-host:7100,http://instance-host-2:7100",
      // One requester makes the whole burst; claims from one address, counted by both gateways, are few.
      POOL_LIMITS: `claims.caller=off,claims.address=${CLAIMS_PER_ADDRESS}/600s`,
      // Numbers without an operator's grant: this suite is about replicas (docs/limits.md).
      POOL_TOOLS_WITHOUT_GRANT: "sms,email",
    },
    // A claim's lease shorter than the default 20 s: the killed replica's claims are resolved sooner. Not shorter
    // than 8 s: on a loaded CI machine the survivor's own renewals (every quarter lease) came late for a 4 s lease,
    // and its claims were taken back too.
    sizing: { claims: { POOL_TARGET_IDLE: String(TARGET), CLAIM_LEASE_SECONDS: "8" } },
  });
  await pool.start();
  hostUrls = pool.envs.get("claims")!.INSTANCE_HOST_URLS!.split(",");
  expect(hostUrls).toEqual([pool.url("instance-host"), pool.url("instance-host-2")]);
  creator = await startCreator(pool.url("xmtp"), pool.dir);
  const claimsDb = new pg.Client({ connectionString: pool.databases.get("claims")! });
  const templatesDb = new pg.Client({ connectionString: pool.databases.get("templates")! });
  await claimsDb.connect();
  await templatesDb.connect();
  world = {
    claimsDb,
    templatesDb,
    hostUrl: hostUrls,
    hostCreds: pool.creds.claims,
    creator,
    llmRequests: llm.requests,
    asked: new Map(),
  };
  const t = createServiceClient(TemplateService, pool.url("templates"), pool.creds.gateway);
  try {
    // One pool tool, provisioned by whichever claims replica makes the claim (as in the fault suite).
    template = await signedTemplate(t.client, author, sampleContent({ tools: [tool("sms", "pool")] }), "public");
  } finally {
    t.close();
  }
  await until(
    `${TARGET} idle agents`,
    async () => (await idleOn(hostUrls[0]!)) + (await idleOn(hostUrls[1]!)) >= TARGET,
  );
  note("pool up");
}, 300_000);

afterAll(async () => {
  if (process.env.REPLICAS_LOG)
    await import("node:fs/promises").then((fs) => fs.writeFile(process.env.REPLICAS_LOG!, pool.logLines().join("\n")));
  await world?.claimsDb.end().catch(() => undefined);
  await world?.templatesDb.end().catch(() => undefined);
  await creator?.close().catch(() => undefined);
  await pool?.close();
  await llm?.close();
}, 60_000);

describe("two of everything on one PostgreSQL", () => {
  it("placed by free places: the warm pool is spread over both hosts", async () => {
    expect(await idleOn(hostUrls[0]!)).toBe(TARGET / 2);
    expect(await idleOn(hostUrls[1]!)).toBe(TARGET / 2);
  });

  it("a session signed in at one gateway works at the other, and signing out at one ends it at both", async () => {
    const person = newIdentity();
    const call = async (gateway: ProcessName, method: string, path: string, token?: string, body?: unknown) => {
      const res = await fetch(`${pool.url(gateway)}${path}`, {
        method,
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
    };
    // Made for the pool's public URL, which both replicas serve (deployed.ts: the first gateway's).
    const signIn = signInJson(await signSignIn(person.account, person.inboxId, pool.url("gateway")));
    const signedIn = await call("gateway", "POST", "/api/pool/sessions", undefined, signIn);
    expect(signedIn.status, JSON.stringify(signedIn.json)).toBe(200);
    const token = signedIn.json!.token as string;
    expect((await call("gateway-2", "GET", `/api/pool/agents?owner=${person.inboxId}`, token)).status).toBe(200);
    // The same signed sign-in again, at the other gateway: its nonce is spent (the gateways share their database).
    const replayed = await call("gateway-2", "POST", "/api/pool/sessions", undefined, signIn);
    expect(replayed.status).toBe(401);
    expect(JSON.stringify(replayed.json)).toMatch(/nonce/);
    expect((await call("gateway-2", "DELETE", "/api/pool/sessions", token)).status).toBe(204);
    expect((await call("gateway", "GET", `/api/pool/agents?owner=${person.inboxId}`, token)).status).toBe(401);
  });

  it("claims from one address split across both gateways are held to one allowance, counted in the gateways' database", async () => {
    // Without proof (no session, no signature): the gateway counts it first, and the claims service refuses it.
    const claim = (gateway: ProcessName) =>
      fetch(`${pool.url(gateway)}/api/pool/claim`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          requester: creator.inboxId,
          template_id: template.id,
          conversation_invite: `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`,
          model: "",
          user_config: {},
        }),
      }).then(async (res) => ({ status: res.status, body: await res.text() }));
    const burst = await Promise.all(
      Array.from({ length: 3 * CLAIMS_PER_ADDRESS }, (_, i) => claim(i % 2 ? "gateway" : "gateway-2")),
    );
    const refused = burst.filter((r) => r.status === 429);
    expect(refused).toHaveLength(2 * CLAIMS_PER_ADDRESS);
    for (const r of refused) expect(r.body).toMatch(/claims per client address is 6 per 600 s/);
    expect(burst.filter((r) => r.status !== 429).map((r) => r.status)).toEqual(Array(CLAIMS_PER_ADDRESS).fill(401));
    const gatewayDb = new pg.Client({ connectionString: pool.databases.get("gateway")! });
    await gatewayDb.connect();
    try {
      const { rows: counters } = await gatewayDb.query<{ points: number }>(
        `select points from rate_counters where key like 'claims per client address:%'`,
      );
      expect(counters).toHaveLength(1);
      expect(counters[0]!.points).toBeGreaterThan(CLAIMS_PER_ADDRESS);
    } finally {
      await gatewayDb.end();
    }
  });

  it("a burst of claims through two claims services, one of them and one host killed during it and an update in the middle: no agent twice, every claim an agent or rolled back, the update applied once by each agent, the pool refilled by the survivor", {
    timeout: 420_000,
  }, async () => {
    const N = 12;
    const convs: Awaited<ReturnType<typeof creator.conversation>>[] = [];
    for (let i = 0; i < N; i++) convs.push(await creator.conversation(`Burst ${i}`));
    note("conversations made");
    const fromHost = pool.processes.get("instance-host-2")!.lines.length;
    const outcomes = Promise.all(
      convs.map((c, i) => claimUntilAnswered(i, `burst-${i}-${randomBytes(3).toString("hex")}`, c.invite)),
    );
    // In the middle of it: an agent on the second host being configured.
    await lineOf("instance-host-2", /instance configured/, fromHost);
    const templates = createServiceClient(TemplateService, pool.url("templates"), pool.creds.gateway);
    try {
      template = await signedUpdate(
        templates.client,
        author,
        template,
        `You help with trips. Revision ${randomBytes(4).toString("hex")}.`,
      );
    } finally {
      templates.close();
    }
    note(`update to version ${template.contentVersion}`);
    await Promise.all([pool.killService("claims"), pool.killService("instance-host-2")]);
    note("claims and instance-host-2 killed");
    await pool.startService("instance-host-2");
    note("instance-host-2 restarted");
    const results = await outcomes;
    note(`claims answered: ${results.map((r) => r.instanceId ?? Code[r.code!]).join(", ")}`);

    // Every claim has its outcome: an agent, or told it was taken back (its replica died holding it).
    for (const r of results) expect(r.instanceId ?? Code[r.code!]).toMatch(/^inst_|^Aborted$/);
    // How many were taken back depends on the machine's load. A client told so claims again with a new key,
    // and the survivor must then give that conversation its agent: the taken-back claim left nothing behind.
    const again = await Promise.all(
      results.map((r, i) =>
        r.instanceId
          ? Promise.resolve(r)
          : claimUntilAnswered(i, `burst-${i}-again-${randomBytes(3).toString("hex")}`, convs[i]!.invite),
      ),
    );
    note(`claimed again: ${again.filter((r, i) => r !== results[i]).length}`);
    for (const r of again) expect(r.instanceId, Code[r.code ?? 0]).toMatch(/^inst_/);
    const won = again.map((r) => r.instanceId!);
    expect(new Set(won).size).toBe(won.length);
    const claimed = await rows<{ id: string; conversation_id: string; host_url: string }>(
      `select id, conversation_id, host_url from instances where id = any($1) and state = 'claimed'`,
      [won],
    );
    expect(claimed.map((r) => r.id).sort()).toEqual([...won].sort());
    expect(new Set(claimed.map((r) => r.conversation_id)).size).toBe(won.length);
    // (Which hosts hold them depends on which claims the killed replica and the killed host had in hand.)
    expect(claimed.every((r) => hostUrls.includes(r.host_url))).toBe(true);

    for (const c of convs)
      if (claimed.some((r) => r.conversation_id === c.groupId))
        await ask(c.groupId, `Hello after the burst, ${c.groupId.slice(0, 6)}`);
    // Every agent at the new version, in a conversation only if claimed for it, every text answered, nothing stuck.
    await invariantsHold(world, 120_000);
    note("invariants hold");
    // Each version applied at most once by each agent, as the hosts logged it (killed ones' lines too).
    for (const [id, versions] of updatesApplied())
      expect(new Set(versions).size, `${id} applied ${versions.join(", ")}`).toBe(versions.length);

    // The survivor's pool manager took over: the pool is back at its target, on both hosts.
    await until(
      "the pool refilled by the surviving claims service",
      async () => (await idleOn(hostUrls[0]!)) + (await idleOn(hostUrls[1]!)) >= TARGET,
    );
    expect(pool.processes.get("claims-2")!.lines.some((l) => l.includes('"pool pass"'))).toBe(true);
    note("pool refilled");
  });

  it("a host drained: its idle agents go elsewhere, nothing new lands on it, and its claimed agents stay and answer", {
    timeout: 300_000,
  }, async () => {
    // The host with the most claimed agents is drained; the other stays open.
    const counts = await rows<{ host_url: string; n: number }>(
      `select host_url, count(*)::int as n from instances where state = 'claimed' group by 1 order by 2 desc`,
    );
    const drained = counts[0]!.host_url;
    const open = hostUrls.find((u) => u !== drained)!;
    const before = await rows<{ id: string; conversation_id: string }>(
      `select id, conversation_id from instances where host_url = $1 and state = 'claimed'`,
      [drained],
    );
    expect(before.length).toBeGreaterThan(0);
    expect(await hostsCli("drain", drained)).toContain("drains");
    expect(await hostsCli("list")).toContain(`${drained} (draining)`);
    await until(
      "the drained host's idle agents replaced elsewhere",
      async () => (await idleOn(drained)) === 0 && (await idleOn(open)) >= TARGET,
    );
    note("drained");
    // New claims land on the open host.
    const fresh = [];
    for (let i = 0; i < 2; i++) {
      const conv = await creator.conversation(`After the drain ${i}`);
      const got = await claimUntilAnswered(i, `drain-${i}-${randomBytes(3).toString("hex")}`, conv.invite);
      expect(got.instanceId, Code[got.code ?? 0]).toBeDefined();
      fresh.push(got.instanceId!);
      await ask(conv.groupId, `Hello from after the drain ${i}`);
    }
    expect(await rows(`select distinct host_url from instances where id = any($1)`, [fresh])).toEqual([
      { host_url: open },
    ]);
    // The drained host still runs its claimed agents, and they answer.
    const host = createServiceClient(InstanceHostService, drained, pool.creds.claims);
    try {
      const running = new Map((await host.client.listInstances({})).instances.map((i) => [i.instanceId, i.state]));
      for (const a of before) expect(running.get(a.id), a.id).toBe(InstanceState.CLAIMED);
      expect([...running.values()].filter((s) => s === InstanceState.IDLE)).toEqual([]);
    } finally {
      host.close();
    }
    for (const a of before) await ask(a.conversation_id, `Still with us on the drained host, ${a.id}?`);
    await invariantsHold(world, 120_000);
    expect(await rows(`select state from instances where id = any($1)`, [before.map((a) => a.id)])).toEqual(
      before.map(() => ({ state: "claimed" })),
    );
    note("drained host's agents answered");
    expect(await hostsCli("undrain", drained)).toContain("takes new instances again");
  });
});
