// Faults with real processes (docs/reliability.md): the pool as
// deploy/compose.yaml runs it (e2e/src/deployed.ts), its services' databases
// on a PostgreSQL server of this file's own, a model endpoint that the test
// can make fail, and a Convos creator whose conversations the agents join.
// Each fault is brought about at a chosen moment with SIGKILL or by stopping
// PostgreSQL, and after each one checker (e2e/src/invariants.ts) waits until
// everything that must hold holds again.
import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { startCreator } from "@convos-pool/convos/testing";
import { EXTRACTION_PROMPT, CHOOSER_PROMPT, SUMMARY_PROMPT, chooseByRuleAnswer } from "@convos-pool/instance";
import { startChatServer, type ChatAnswer, type ChatServer } from "@convos-pool/testing/chat-server";
import { statementJwsIn } from "@convos-pool/kit/content";
import { callerHeaders, createServiceClient } from "@convos-pool/kit/server";
import { signClone } from "@convos-pool/kit/signing";
import { PostgresServer, waitFor } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate, signedUpdate, tool } from "@convos-pool/kit/testing";
import { DeployedPool, type DeployedService } from "./deployed.js";
import { invariantsHold, violations, type World } from "./invariants.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let t0 = Date.now();
/** Prints how long the fault's steps took (docs/reliability.md quotes them). */
const note = (what: string) => console.log(`faults: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

/** How the model behaves: the LLM faults switch it. */
let model: "ok" | "failing" | "slow" | "garbage" = "ok";
/** While set, a parent's summary for its clone is answered only once it resolves: the host is killed in the middle of it. */
let summaryHeld: Promise<void> | undefined;
let postgres: PostgresServer;
let llm: ChatServer;
let pool: DeployedPool;
let creator: Awaited<ReturnType<typeof startCreator>>;
let world: World;
let template: Template;
const author = newIdentity();
/** The agents claimed so far that should be live: conversation and inbox. */
const live: { instanceId: string; groupId: string }[] = [];

const claimsClient = () => createServiceClient(ClaimService, pool.url("claims"), pool.creds.gateway);
const templatesClient = () => createServiceClient(TemplateService, pool.url("templates"), pool.creds.gateway);
const owner = () => ({ headers: callerHeaders(creator.inboxId), timeoutMs: 60_000 });

/** A claim into a new conversation, with its idempotency key; the conversation comes back with it. */
async function claimOnce(key: string, invite: string): Promise<string> {
  const c = claimsClient();
  try {
    return (
      await c.client.claim(
        { requester: creator.inboxId, templateId: template.id, conversationInvite: invite, idempotencyKey: key },
        owner(),
      )
    ).instanceId;
  } finally {
    c.close();
  }
}

/** Codes a client retries with the same key: the answer was lost, the service was away, no agent was idle just then. */
const RETRIED = [
  Code.Unavailable,
  Code.Canceled,
  Code.DeadlineExceeded,
  Code.Unknown,
  Code.Internal,
  Code.ResourceExhausted,
];

/**
 * What a careful client does: claim, and while the answer is lost, retry with
 * the same key. Resolves to the agent, or to the code of a definitive failure.
 */
async function claimUntilAnswered(
  key: string,
  conv: { groupId: string; invite: string },
  ms = 90_000,
): Promise<{ instanceId?: string; code?: Code; tries: number }> {
  const end = Date.now() + ms;
  for (let tries = 1; ; tries++) {
    try {
      const instanceId = await claimOnce(key, conv.invite);
      live.push({ instanceId, groupId: conv.groupId });
      return { instanceId, tries };
    } catch (err) {
      const e = ConnectError.from(err);
      if (!RETRIED.includes(e.code) || Date.now() > end) return { code: e.code, tries };
      await sleep(1_000); // the scenario: a client's pause before it tries again
    }
  }
}

/** Says `text` in a conversation with an agent; the checker wants it answered. */
async function ask(groupId: string, text: string): Promise<void> {
  world.asked.set(groupId, [...(world.asked.get(groupId) ?? []), text]);
  await creator.send(groupId, text);
}

async function updateTemplate(): Promise<bigint> {
  const t = templatesClient();
  try {
    template = await signedUpdate(
      t.client,
      author,
      template,
      `You help with trips. Revision ${randomBytes(4).toString("hex")}.`,
    );
    return template.version;
  } finally {
    t.close();
  }
}

/** Resolves when a line matching `pattern` appears in `service`'s output after `from` lines. */
async function lineOf(service: DeployedService, pattern: RegExp, from: number, ms = 30_000): Promise<string> {
  const find = () =>
    pool.processes
      .get(service)
      ?.lines.slice(from)
      .find((l) => pattern.test(l));
  await waitFor(`a line matching ${pattern} from ${service}`, () => find() !== undefined, ms, 5);
  return find()!;
}
const linesOf = (service: DeployedService) => pool.processes.get(service)?.lines.length ?? 0;

async function waitIdle(n: number): Promise<void> {
  await waitFor(
    `${n} idle agents`,
    async () => ((await world.claimsDb.query(`select 1 from instances where state = 'idle'`)).rowCount ?? 0) >= n,
    60_000,
    200,
  ).catch(async (err: unknown) => {
    const states = (await world.claimsDb.query(`select state, count(*)::int as n from instances group by state`)).rows;
    throw new Error(
      `${(err as Error).message}: ${JSON.stringify(states)}\n${pool.processes
        .get("claims")
        ?.lines.filter((l) => !/"level":"(info|debug)"/.test(l))
        .slice(-8)
        .join("\n")}`,
    );
  });
}

beforeAll(async () => {
  postgres = await PostgresServer.create();
  llm = await startChatServer(async (req): Promise<ChatAnswer> => {
    if (req.body.messages[0]?.content.startsWith(EXTRACTION_PROMPT)) return '{"entries":[]}';
    if (req.body.messages[0]?.content.startsWith(CHOOSER_PROMPT))
      return chooseByRuleAnswer(req.body.messages.at(-1)?.content ?? "");
    // A parent summarizing for a clone: held while the test kills its host in the middle of it.
    if (req.body.messages.some((m) => m.content?.startsWith(SUMMARY_PROMPT))) {
      await summaryHeld;
      return '{"entries":[]}';
    }
    const last = req.body.messages.at(-1)?.content ?? "";
    if (model === "failing") return 503;
    if (model === "garbage") return { raw: "<html>upstream said something else" };
    // The scenario: a model that answers seconds late, where nothing in the pool may give up on it.
    if (model === "slow") await sleep(4_000);
    return `Noted (${last.length} chars).`;
  });
  pool = new DeployedPool({
    name: "faults",
    postgres,
    // Numbers without an operator's grant, and no claim rate: this suite is about faults, and
    // its clients retry each second through an outage, as a patient client does (docs/limits.md).
    vars: {
      LLM_BASE_URL: llm.baseUrl,
      LLM_API_KEY: "sk-faults",
      POOL_TOOLS_WITHOUT_GRANT: "sms,email",
      POOL_LIMITS: "claims.caller=off,claims.address=off",
    },
    // A shorter lease than the default 20 s: the suite waits it out three times.
    sizing: { claims: { POOL_TARGET_IDLE: "3", CLAIM_LEASE_SECONDS: "4" } },
  });
  await pool.start();
  creator = await startCreator(pool.url("xmtp"), pool.dir);
  const connect = async (name: string) => {
    const c = new pg.Client({ connectionString: pool.databases.get(name)! });
    c.on("error", () => undefined); // PostgreSQL is stopped on purpose; reconnected below
    await c.connect();
    return c;
  };
  world = {
    claimsDb: await connect("claims"),
    templatesDb: await connect("templates"),
    hostUrl: pool.url("instance-host"),
    hostCreds: pool.creds.claims,
    creator,
    llmRequests: llm.requests,
    asked: new Map(),
  };
  const t = templatesClient();
  try {
    template = await signedTemplate(t.client, author, sampleContent({ tools: [tool("sms", "pool")] }), "public");
  } finally {
    t.close();
  }
  await waitIdle(2);
}, 240_000);

afterAll(async () => {
  await world?.claimsDb.end().catch(() => undefined);
  await world?.templatesDb.end().catch(() => undefined);
  await creator?.close().catch(() => undefined);
  await pool?.close();
  await llm?.close();
  await postgres?.close();
}, 60_000);

/** The checker, noting when everything held again. */
async function holds(ms = 60_000): Promise<void> {
  await invariantsHold(world, ms);
  note("every invariant holds");
}

/** The checker's database connections, again after PostgreSQL was away. */
async function reconnect(): Promise<void> {
  for (const key of ["claimsDb", "templatesDb"] as const) {
    await world[key].end().catch(() => undefined);
    const c = new pg.Client({ connectionString: pool.databases.get(key === "claimsDb" ? "claims" : "templates")! });
    c.on("error", () => undefined);
    await c.connect();
    world[key] = c;
  }
}

describe("faults, and what holds after each", () => {
  beforeEach(() => {
    t0 = Date.now();
  });

  it("before any fault: two agents claimed and answering", { timeout: 120_000 }, async () => {
    for (const n of [1, 2]) {
      const conv = await creator.conversation(`Before ${n}`);
      const out = await claimUntilAnswered(`before-${n}`, conv);
      expect(out.code, "claim").toBeUndefined();
      await ask(conv.groupId, `Hello agent ${n}`);
    }
    await holds();
  });

  it("the checker sees what is broken: a message never sent, a version behind, a tool of an idle agent, an agent stuck in claiming", {
    timeout: 60_000,
  }, async () => {
    const a = live[0]!;
    const idle = (await world.claimsDb.query(`select id from instances where state = 'idle' limit 1`)).rows[0]!
      .id as string;
    const broken = { ...world, asked: new Map([[a.groupId, ["a text nobody sent"]]]) };
    // Each change held only while the checker looks (one transaction, rolled back), so the pool never acts on it.
    await world.claimsDb.query("begin");
    try {
      await world.claimsDb.query(
        `update instances set template_version = template_version - 1, applied_key = array[template_version - 1] where id = $1`,
        [a.instanceId],
      );
      await world.claimsDb.query(
        `insert into provisioned_tools (instance_id, tool_id, provider, handle) values ($1, 'sms', 'checker', 'x')`,
        [idle],
      );
      await world.claimsDb.query(
        `update instances set state = 'claiming', claim_id = 'checker', claim_started_at = now() where id = $1`,
        [live[1]!.instanceId],
      );
      const found = (await violations(broken)).join("\n");
      expect(found).toContain(`"a text nobody sent" was never delivered`);
      expect(found).toMatch(new RegExp(`${a.instanceId} is recorded at version`));
      expect(found).toContain(`sms of ${idle} is held, but the instance is idle`);
      expect(found).toContain(`${live[1]!.instanceId} is stuck in claiming`);
    } finally {
      await world.claimsDb.query("rollback");
    }
    expect(await violations(world)).toEqual([]);
  });

  /** The moment its row says `claiming`, before the host hears of the claim. */
  const rowClaiming = () =>
    waitFor(
      "a claim taking an agent",
      async () => ((await world.claimsDb.query(`select 1 from instances where state = 'claiming'`)).rowCount ?? 0) > 0,
      30_000,
      2,
    ).catch(async (err: unknown) => {
      // Seen once on a loaded machine: say where the claims were, so the next such failure explains itself.
      const states = (await world.claimsDb.query(`select state, count(*)::int as n from instances group by state`))
        .rows;
      throw new Error(
        `${(err as Error).message}: instances ${JSON.stringify(states)}\n${(["claims", "gateway"] as const)
          .flatMap((s) => pool.processes.get(s)?.lines.slice(-6) ?? [])
          .join("\n")}`,
      );
    });

  /** `n` keyed claims into new conversations, `outage` once the first took its agent: each must get its agent, and the agents answer. */
  async function claimsThrough(name: string, n: number, outage: () => Promise<void>): Promise<void> {
    await waitIdle(n);
    const convs = await Promise.all(Array.from({ length: n }, (_, i) => creator.conversation(`${name} ${i}`)));
    const outcomes = convs.map((conv, i) => claimUntilAnswered(`${name}-${i}`, conv));
    await rowClaiming();
    await outage();
    const settled = await Promise.all(outcomes);
    note(
      `claims settled: ${settled.map((x) => x.instanceId ?? Code[x.code!]).join(", ")}; tries ${settled.map((x) => x.tries).join(", ")}`,
    );
    // A claim past its start waited for the database, one at its start was told to try again: each got its agent.
    expect(settled.map((s) => s.instanceId ?? Code[s.code!])).toEqual(
      settled.map(() => expect.stringMatching(/^inst_/)),
    );
    await reconnect();
    for (const [i, conv] of convs.entries())
      await ask(conv.groupId, `Are you there after the database was away, ${i}?`);
    await holds();
    for (const s of ["templates", "claims", "lineage", "instance-host", "gateway"] as const)
      expect(pool.processes.get(s), `${s} is running`).toBeDefined();
  }

  it(
    "PostgreSQL crashed and back during a burst of claims: every claim settles once, with its key",
    { timeout: 180_000 },
    () =>
      claimsThrough("burst", 3, async () => {
        await postgres.stop("immediate");
        note("PostgreSQL crashed");
        await sleep(2_000); // the scenario: away 2 s, then its crash recovery
        await postgres.start();
        note("PostgreSQL back");
      }),
  );

  it(
    "PostgreSQL down for ten seconds during claims: each is told to try again or waits, and each gets its agent",
    { timeout: 180_000 },
    () =>
      claimsThrough("down", 2, async () => {
        await postgres.stop("fast");
        note("PostgreSQL stopped");
        await sleep(10_000); // the scenario: ten seconds down, within the 15 s a claim's completion waits for it
        await postgres.start();
        note("PostgreSQL back");
      }),
  );

  it("PostgreSQL down for ten seconds during a template update's fan-out: every agent converges; messages meanwhile are answered", {
    timeout: 180_000,
  }, async () => {
    await updateTemplate();
    await postgres.stop("fast");
    for (const a of live.slice(0, 2)) await ask(a.groupId, `While the database is down: noted? ${a.instanceId}`);
    await sleep(10_000); // the scenario: ten seconds down
    await postgres.start();
    await reconnect();
    await holds(90_000);
  });

  it("the templates service killed as its outbox relays an update: the update still reaches every agent", {
    timeout: 180_000,
  }, async () => {
    await updateTemplate();
    await pool.killService("templates");
    await pool.startService("templates");
    await holds(90_000);
  });

  it("the claims service killed in the middle of a sync fan-out: every agent converges after it is back", {
    timeout: 180_000,
  }, async () => {
    const from = linesOf("instance-host");
    await updateTemplate();
    await lineOf("instance-host", /template updated/, from);
    await pool.killService("claims");
    await pool.startService("claims");
    await holds(90_000);
  });

  for (const [key, step, moment] of [
    ["killed-at-take", "as it takes an agent, before Configure", rowClaiming],
    [
      "killed-after-configure",
      "after Configure, as the join starts",
      (from: number) => lineOf("instance-host", /instance configured/, from),
    ],
    [
      "killed-after-join",
      "once the agent joined, before the claim completes",
      (from: number) => lineOf("instance-host", /instance joined its conversation/, from),
    ],
  ] as const) {
    it(`the claims service killed ${step}: the retry with the same key gets the outcome, never a second agent`, {
      timeout: 180_000,
    }, async () => {
      await waitIdle(1);
      const conv = await creator.conversation(`Claims killed ${step}`);
      const from = linesOf("instance-host");
      const first = claimOnce(key, conv.invite).then(
        (id) => ({ id }),
        (err: unknown) => ({ code: ConnectError.from(err).code }),
      );
      const reached = await Promise.race([moment(from).then(() => undefined), first]);
      expect(
        reached,
        `the claim ended before the moment: ${pool.processes.get("claims")!.lines.slice(-5).join("\n")}`,
      ).toBeUndefined();
      await pool.killService("claims");
      const lost = await first;
      note(`claims killed; the caller got ${"id" in lost ? lost.id : Code[lost.code]}`);
      await pool.startService("claims");
      const retried = await claimUntilAnswered(key, conv);
      note(`the retry with the same key got ${retried.instanceId ?? Code[retried.code!]}`);
      // The agent it had (or the outcome that it was taken back), never a second one.
      if ("id" in lost) expect(retried.instanceId).toBe(lost.id);
      else expect(retried.instanceId ?? Code[retried.code!]).toMatch(/^inst_|Aborted/);
      if (retried.instanceId) await ask(conv.groupId, `Still here after the claims crash ${step}?`);
      await holds(90_000);
    });
  }

  it("the instance host killed while an agent joins: the claim's outcome is clear, and the agent is in no conversation it is not claimed for", {
    timeout: 240_000,
  }, async () => {
    await waitIdle(1);
    const conv = await creator.conversation("Host killed while joining");
    const from = linesOf("instance-host");
    const first = claimOnce("host-killed-joining", conv.invite).then(
      (id) => ({ id }),
      (err: unknown) => ({ code: ConnectError.from(err).code }),
    );
    await lineOf("instance-host", /instance configured/, from);
    await pool.killService("instance-host");
    const answer = await first;
    note(`host killed; the caller got ${"id" in answer ? answer.id : Code[answer.code]}`);
    await pool.startService("instance-host");
    note("host back");
    const retried = await claimUntilAnswered("host-killed-joining", conv);
    note(`the retry with the same key got ${retried.instanceId ?? Code[retried.code!]}`);
    // The host went away: UNAVAILABLE, rolled back; the same key again makes a new attempt, which gets an agent.
    if ("id" in answer) expect(retried.instanceId).toBe(answer.id);
    else expect([answer.code, retried.instanceId]).toEqual([Code.Unavailable, expect.stringMatching(/^inst_/)]);
    for (const a of live.slice(0, 2)) await ask(a.groupId, `After the host came back: noted, ${a.instanceId}?`);
    await holds(120_000);
  });

  it("the instance host killed while applying an update: every agent converges once it is back, and answers what it missed", {
    timeout: 240_000,
  }, async () => {
    const from = linesOf("instance-host");
    await updateTemplate();
    await lineOf("instance-host", /UpdateTemplate|template updated/, from);
    await pool.killService("instance-host");
    for (const a of live.slice(0, 2)) await ask(a.groupId, `Sent while the host was down, ${a.instanceId}`);
    await pool.startService("instance-host");
    await holds(120_000);
  });

  it("the instance host killed while a parent summarizes for its clone: the clone is the owner's and answers, its inheritance settled, not pending", {
    timeout: 240_000,
  }, async () => {
    await waitIdle(2);
    const parent = live[0]!;
    const conv = await creator.conversation("Clone while the host dies");
    const clone = {
      ownerId: creator.inboxId,
      parentInstanceId: parent.instanceId,
      templateId: template.id,
      templateCreatorId: template.creatorId,
      conversationInvite: conv.invite,
      contextPrompt: "Bring what you learned.",
      carry: [],
      model: "",
      userConfig: {},
    };
    const req = {
      requester: creator.inboxId,
      cloneFrom: parent.instanceId,
      templateId: template.id,
      templateCreatorId: template.creatorId,
      conversationInvite: conv.invite,
      contextPrompt: clone.contextPrompt,
      carry: [],
      ownerSignature: await signClone(creator.account, clone),
      idempotencyKey: "clone-host-killed",
    };
    const before = llm.requests.length;
    let release = () => {};
    summaryHeld = new Promise((resolve) => (release = resolve));
    const send = async () => {
      const c = claimsClient();
      try {
        return await c.client.claim(req, owner()).then(
          (res) => ({ id: res.instanceId }),
          (err: unknown) => ({ code: ConnectError.from(err).code }),
        );
      } finally {
        c.close();
      }
    };
    const answered = send();
    try {
      // The moment the parent asks its model for the summary (held until the host is killed).
      await waitFor(
        "the parent's summary",
        () =>
          llm.requests.slice(before).some((r) => r.body.messages.some((m) => m.content?.startsWith(SUMMARY_PROMPT))),
        60_000,
      ).catch(async (err: unknown) => {
        throw new Error(
          `${(err as Error).message}; the claim: ${JSON.stringify(await Promise.race([answered, sleep(10)]))}`,
        );
      });
      await pool.killService("instance-host");
    } finally {
      release();
      summaryHeld = undefined;
    }
    let answer = await answered;
    note(`host killed while summarizing; the owner got ${"id" in answer ? answer.id : Code[answer.code]}`);
    await pool.startService("instance-host");
    note("host back");
    // The same signed request with the same key, while the answer says to try again.
    for (let tries = 0; !("id" in answer) && RETRIED.includes(answer.code) && tries < 30; tries++) {
      await sleep(1_000); // the scenario: a client's pause before it tries again
      answer = await send();
    }
    expect("id" in answer ? answer.id : Code[answer.code], "the clone is claimed").toMatch(/^inst_/);
    const childId = (answer as { id: string }).id;
    live.push({ instanceId: childId, groupId: conv.groupId });
    const [row] = (
      await world.claimsDb.query(
        `select parent_instance_id, inheritance_state, inheritance_error from instances where id = $1`,
        [childId],
      )
    ).rows;
    note(
      `the clone's inheritance: ${row.inheritance_state}${row.inheritance_error ? ` (${row.inheritance_error})` : ""}`,
    );
    expect(row.parent_instance_id).toBe(parent.instanceId);
    expect(["sent", "failed"]).toContain(row.inheritance_state);
    await ask(conv.groupId, "Hello, clone, after the host came back");
    await holds(120_000);
  });

  it("the XMTP node killed and back during a join and conversations: the claim settles, messages are answered", {
    timeout: 240_000,
  }, async () => {
    await waitIdle(2);
    const conv = await creator.conversation("Node restarted");
    const from = linesOf("instance-host");
    const first = claimUntilAnswered("node-restarted", conv);
    await lineOf("instance-host", /instance configured/, from);
    await pool.killService("xmtp");
    await pool.startXmtp();
    note("XMTP node back");
    const settled = await first;
    note(`the claim settled: ${settled.instanceId ?? Code[settled.code!]} after ${settled.tries} tries`);
    expect(settled.instanceId ?? Code[settled.code!]).toMatch(/^inst_/);
    for (const a of live.slice(0, 2)) await ask(a.groupId, `After the network came back: noted, ${a.instanceId}?`);
    if (settled.instanceId) await ask(conv.groupId, "Hello after the node restart");
    await holds(120_000);
  });

  it("the model failing, slow, and answering garbage: the agent says so or waits, and answers again once the model is back", {
    timeout: 180_000,
  }, async () => {
    const a = live[0]!;
    for (const mode of ["failing", "garbage", "slow"] as const) {
      model = mode;
      const before = (await creator.transcript(a.groupId)).length;
      await ask(a.groupId, `A question while the model is ${mode}`);
      let said: Awaited<ReturnType<typeof creator.transcript>> = [];
      // The agent's answer; its signed statement (posted after an update, docs/statement.md) answers nobody.
      const answers = () => said.filter((m) => m.from !== creator.inboxId && statementJwsIn(m.text) === undefined);
      await waitFor(
        `the agent's answer while the model is ${mode}`,
        async () => {
          said = (await creator.transcript(a.groupId)).slice(before);
          return answers().length > 0;
        },
        30_000,
        300,
      );
      const reply = answers()[0]?.text ?? "";
      if (mode === "slow") expect(reply).toMatch(/^Noted/);
      else expect(reply).toMatch(/could not reach my language model/);
    }
    model = "ok";
    await ask(a.groupId, "And now that the model is back?");
    await holds();
  });

  it("no service logged a secret while all this happened", () => {
    const lines = pool.logLines().join("\n");
    for (const secret of [
      pool.vars.POOL_MASTER_SEED!,
      pool.vars.POOL_SECRETS_KEY!,
      pool.vars.POOL_SESSION_SECRET!,
      "sk-faults",
    ])
      expect(lines).not.toContain(secret);
  });
});
