// A lost host brings an agent in two conversations back in both
// (docs/design/one-agent-many-conversations.md, "A lost host: back in every
// conversation"), with real processes as host-lost.system.test.ts runs them:
// the services and two instance hosts from their main.ts with the environment
// deploy/compose.yaml gives them (e2e/src/deployed.ts), the test PostgreSQL
// server, the local XMTP node, the offline model. Saul's Convos CLI serves
// "Trip", into which he claims the agent; Dan's serves "Dinner club", to which
// Saul adds it through the claims service, signed with his CLI's wallet key.
// Bea joins Trip and Eve joins Dinner club as the Convos apps do (people, not
// agents: @convos-pool/convos/person), and each teaches it something there.
// Host A is killed (SIGKILL), its data directory deleted, and marked lost by
// the operator's command (hosts-cli.ts). Scored on what each conversation's
// members read: the agent says it moved once in each, and answers each from
// what was taught there, never from the other's.
import { execFile } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, createBackend } from "@xmtp/node-sdk";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { Person } from "@convos-pool/convos/person";
import { callerHeaders, createServiceClient } from "@convos-pool/kit/server";
import { signAddToConversation } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { ConvosCli, type CliEvent, type ReadyEvent } from "@convos-pool/testing/convos-cli";
import { DeployedPool } from "./deployed.js";

const t0 = Date.now();
const note = (what: string) => console.log(`two-conversations: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

/** The agent's words once back in a conversation after a move (agent/face/claim.ts MOVED_NOTICE). */
const MOVED = /^I moved to another host/;

/** What each conversation's person teaches there, and how it is asked back. */
const TRIP = {
  fact: "the spare key is under the green pot",
  question: "Keeper, do you remember anything about the key?",
  answer: /green pot/,
};
const CLUB = {
  fact: "our table is number 12",
  question: "Keeper, do you remember anything about our table?",
  answer: /number 12/,
};

interface Served {
  cli: ConvosCli;
  ready: ReadyEvent;
  /** Who teaches and asks there, as the apps are people. */
  person: Person;
}

let pool: DeployedPool;
let claimsDb: pg.Client;
let hostA: string;
let hostB: string;
let instanceId = "";
let agentInbox = "";
let trip: Served;
let club: Served;
/** Every CLI and person started, stopped at the end however far the test got. */
const clis: ConvosCli[] = [];
const persons: Person[] = [];

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

/** A conversation created and served by a Convos CLI of its own (`agent serve`), as `profileName`. */
async function serve(name: string, profileName: string, dir: string): Promise<Pick<Served, "cli" | "ready">> {
  const cli = await ConvosCli.start(
    ["agent", "serve", "--name", name, "--profile-name", profileName],
    join(pool.dir, dir),
    {
      xmtpPort: pool.xmtp!.port,
    },
  );
  clis.push(cli);
  return { cli, ready: await cli.ready() };
}

/** Someone joins by the invite as the Convos apps do. */
async function personIn(ready: ReadyEvent, name: string): Promise<Person> {
  const person = await Person.join(ready.inviteUrl, {
    name,
    apiUrl: pool.url("xmtp"),
    dir: pool.dir,
    timeoutMs: 60_000,
  });
  persons.push(person);
  return person;
}

/** `who` says `text` in their conversation; the agent's first text after it that matches `answer`. */
async function asks(who: Person, text: string, answer: RegExp = /./): Promise<string> {
  const sent = await who.send(text);
  return (await who.heard(agentInbox, sent, answer, 90_000)).text;
}

/** The agent's texts a CLI printed from event `from` on. */
const agentSaid = (cli: ConvosCli, from: number): string[] =>
  cli.events
    .slice(from)
    .filter((e: CliEvent) => e.event === "message" && e.senderInboxId === agentInbox && typeof e.content === "string")
    .map((e) => String(e.content));

beforeAll(async () => {
  pool = new DeployedPool({
    name: "two_conversations",
    replicas: { "instance-host": 2 },
    vars: {
      INSTANCE_HOST_URLS: "http://instance-host:7100,http://instance-host-2:7100",
      POOL_TOOLS_WITHOUT_GRANT: "sms,email",
    },
    // Only the operator marks a host lost here: the test says when.
    sizing: { claims: { POOL_TARGET_IDLE: "1", HOST_LOST_AFTER_SECONDS: "0" } },
  });
  await pool.start();
  [hostA, hostB] = [pool.url("instance-host"), pool.url("instance-host-2")];
  claimsDb = new pg.Client({ connectionString: pool.databases.get("claims")! });
  await claimsDb.connect();
  const templates = createServiceClient(TemplateService, pool.url("templates"), pool.creds.gateway);
  const template = await signedTemplate(
    templates.client,
    newIdentity(),
    sampleContent({ agent_name: "Keeper", tools: [] }),
    "public",
  ).finally(() => templates.close());
  // The agent on A: B drains while it is claimed and added, so the warm pool is all on A.
  await hostsCli("drain", hostB);
  await waitFor(
    "an idle agent on host A alone",
    async () =>
      (
        await rows<{ a: number; b: number }>(
          `select count(*) filter (where host_url = $1)::int as a, count(*) filter (where host_url = $2)::int as b
           from instances where state = 'idle'`,
          [hostA, hostB],
        )
      ).every((r) => r.a >= 1 && r.b === 0),
    120_000,
    250,
  );
  const [saulServes, danServes] = await Promise.all([
    serve("Trip", "Saul", "cli-saul"),
    serve("Dinner club", "Dan", "cli-dan"),
  ]);
  const saul = saulServes.ready.inboxId;
  // Saul signs with his CLI's own wallet key.
  const { walletKey } = JSON.parse(await readFile(join(pool.dir, "cli-saul", "home", "identity.json"), "utf8")) as {
    walletKey: Hex;
  };
  const claims = createServiceClient(ClaimService, pool.url("claims"), pool.creds.gateway);
  try {
    ({ instanceId } = await claims.client.claim(
      { requester: saul, templateId: template.id, conversationInvite: saulServes.ready.inviteUrl },
      { headers: callerHeaders(saul), timeoutMs: 120_000 },
    ));
    const [row] = await rows<{ inbox_id: string; host_url: string }>(
      `select inbox_id, host_url from instances where id = $1`,
      [instanceId],
    );
    expect(row?.host_url).toBe(hostA);
    agentInbox = row!.inbox_id;
    const conversationInvite = danServes.ready.inviteUrl;
    const ownerSignature = await signAddToConversation(privateKeyToAccount(walletKey), {
      ownerId: saul,
      instanceId,
      conversationInvite,
    });
    const added = await claims.client.addToConversation(
      { instanceId, conversationInvite, ownerSignature },
      { headers: callerHeaders(saul), timeoutMs: 120_000 },
    );
    expect(added.conversation?.conversationId).toBe(danServes.ready.conversationId);
  } finally {
    claims.close();
  }
  trip = { ...saulServes, person: await personIn(saulServes.ready, "Bea") };
  club = { ...danServes, person: await personIn(danServes.ready, "Eve") };
  await asks(trip.person, `Keeper, remember that ${TRIP.fact}.`, /Noted/);
  await asks(club.person, `Keeper, remember that ${CLUB.fact}.`, /Noted/);
  // Learned on host A's disk (its memory file) before the state kept after it is awaited.
  const memoryFile = join(pool.envs.get("instance-host")!.INSTANCE_DATA_DIR!, "instances", instanceId, "memory.json");
  await waitFor(
    "what both taught in the agent's memory on host A",
    async () => {
      const memory = await readFile(memoryFile, "utf8").catch(() => "");
      return memory.includes(TRIP.fact) && memory.includes(CLUB.fact);
    },
    30_000,
    250,
  );
  const taught = new Date();
  note("the agent claimed into Trip, added to Dinner club, taught in each, on host A");
  await hostsCli("undrain", hostB);

  // Host A keeps the agent's sealed state with the claims service: wait until it holds what both taught.
  await waitFor(
    "the agent's state kept since it was taught",
    async () =>
      (await rows(`select 1 from agent_states where instance_id = $1 and updated_at > $2`, [instanceId, taught]))
        .length === 1,
    60_000,
    250,
  );
  // And marks it at the lineage service, signed by the agent: the restore below opens nothing older.
  const lineageDb = new pg.Client({ connectionString: pool.databases.get("lineage")! });
  await lineageDb.connect();
  try {
    await waitFor(
      "the agent's kept state marked at the lineage service",
      async () => {
        const [kept] = await rows<{ sequence: string }>(
          `select sequence::text from agent_states where instance_id = $1`,
          [instanceId],
        );
        const marks = (
          await lineageDb.query(`select sequence::text from agent_state_marks where instance_id = $1`, [instanceId])
        ).rows as { sequence: string }[];
        return kept !== undefined && marks.some((m) => m.sequence === kept.sequence);
      },
      60_000,
      250,
    );
  } finally {
    await lineageDb.end();
  }
}, 600_000);

afterAll(async () => {
  for (const p of persons) await p.close().catch(() => undefined);
  for (const cli of clis) await cli.stop().catch(() => undefined);
  await claimsDb?.end().catch(() => undefined);
  await pool?.close();
}, 120_000);

describe("a lost host and an agent in two conversations", () => {
  it("a lost host brings the agent back in both conversations, each told once that it moved", async () => {
    const dataDir = pool.envs.get("instance-host")!.INSTANCE_DATA_DIR!;
    const from = { trip: trip.cli.events.length, club: club.cli.events.length };
    await pool.killService("instance-host");
    await rm(dataDir, { recursive: true, force: true });
    const marked = Date.now();
    expect(await hostsCli("lost", hostA)).toContain("is lost");
    note("host A killed, its disk deleted, marked lost");

    await waitFor(
      "the agent recorded on host B",
      async () =>
        (
          await rows(`select 1 from instances where id = $1 and host_url = $2 and state = 'claimed'`, [
            instanceId,
            hostB,
          ])
        ).length === 1,
      180_000,
      250,
    );
    note(`the agent moved (${((Date.now() - marked) / 1000).toFixed(1)} s after the mark)`);

    // Back in each: it says so there, and answers from what was taught there alone.
    await Promise.all([trip, club].map((c) => c.person.heard(agentInbox, undefined, MOVED, 180_000)));
    note("the agent said it moved in both conversations");
    expect(await asks(trip.person, TRIP.question, /^\[offline model\]/)).toMatch(TRIP.answer);
    expect(await asks(club.person, CLUB.question, /^\[offline model\]/)).toMatch(CLUB.answer);
    const tripAsksClub = await asks(trip.person, CLUB.question, /^\[offline model\]/);
    expect(tripAsksClub).not.toMatch(CLUB.answer);
    const clubAsksTrip = await asks(club.person, TRIP.question, /^\[offline model\]/);
    expect(clubAsksTrip).not.toMatch(TRIP.answer);

    // Once in each, as each conversation's creator's client read it.
    expect(agentSaid(trip.cli, from.trip).filter((t) => MOVED.test(t))).toHaveLength(1);
    expect(agentSaid(club.cli, from.club).filter((t) => MOVED.test(t))).toHaveLength(1);
    // Its inbox has one installation on the XMTP node: host B's.
    const backend = await createBackend({ env: "local", apiUrl: pool.url("xmtp") });
    const [state] = await Client.fetchInboxStates([agentInbox], backend);
    expect(state?.installations).toHaveLength(1);
  }, 600_000);
});
