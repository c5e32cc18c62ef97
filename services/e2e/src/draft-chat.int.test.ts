// The studio's test chat (ClaimService.TryDraft; docs/templates.md, "The test
// chat"): the real claims and templates services on PostgreSQL, and a real
// instance host whose model is a local chat-completions server, the one
// stand-in (a third party's API), which records what the model is sent.
// Called as the gateway calls it, with its credential and the caller's
// inbox. What is checked: the draft as edited (unsaved) answers through an
// agent's prompt; a tool call is shown, never run; nothing is kept; and who
// else might use it (no session, someone else's template, a flood of
// answers, a bad draft) is refused before any model call. Then the pool's
// answers in all (POOL_LIMITS `test-chat.pool`): two more claims services on
// one database of their own, as two replicas, and a crowd of fresh inboxes
// through both, read back from the counters in that database.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { OPEN_BUDGET, SecretBox, startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { startInstanceHost, type RunningInstanceHost } from "@convos-pool/instance";
import { CALLER_HEADER, contentFromJson, fieldViolations } from "@convos-pool/kit/content";
import {
  NO_LIMITS,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  limitExceededOf,
  type ServiceClient,
} from "@convos-pool/kit/server";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";

const CREDS = generateServiceCredentials();
const MODEL_KEY = "sk-test-chat-secret-0123456789";
const quiet = (name: string) => createLogger(name, { level: "silent" });
const ANSWERS = 4;

let dir: string;
let chat: ChatServer;
let templates: RunningTemplateService;
let host: RunningInstanceHost;
let claims: RunningClaimsService;
let claimsSc: ServiceClient<typeof ClaimService>;
let templatesSc: ServiceClient<typeof TemplateService>;

const as = (who: TestIdentity) => ({ headers: { [CALLER_HEADER]: who.inboxId } });
const said = (text: string) => ({ fromAgent: false, text });

async function refused(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err?.code, err?.rawMessage ?? "it answered").toBe(code);
  return err!;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-draft-chat-"));
  chat = await startChatServer((req) => {
    const last = req.body.messages.at(-1);
    // Asked to text, the model calls the draft's tool; given its result, it says what it would have done.
    if (last?.role === "user" && last.content.includes("text Ana"))
      return { toolCalls: [{ name: "send_sms", arguments: { to: "+15550100001", text: "Boarding at 9" } }] };
    if (last?.role === "tool") return `I would have texted Ana (${last.content})`;
    return "Kyoto in April: book the ryokan early.";
  });
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("draft_templates"),
    credentials: CREDS.templates,
    log: quiet("templates"),
  });
  host = await startInstanceHost({
    // No agent starts here: the test chat needs no XMTP node.
    xmtpApiUrl: "http://127.0.0.1:9",
    masterSeed: "11".repeat(32),
    dataDir: join(dir, "host"),
    credentials: CREDS["instance-host"],
    llm: { baseUrl: chat.baseUrl, apiKey: MODEL_KEY, model: "pool-default" },
    log: quiet("instance-host"),
  });
  claims = await startClaimsService({
    budget: OPEN_BUDGET,
    databaseUrl: await createTestDatabase("draft_claims"),
    credentials: CREDS.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir: join(dir, "claims"),
    pool: { hostUrls: [host.url], target: 0, intervalMs: 3_600_000 },
    limits: NO_LIMITS,
    draftAnswers: { points: ANSWERS, seconds: 600 },
    log: quiet("claims"),
  });
  claimsSc = createServiceClient(ClaimService, claims.url, CREDS.gateway);
  templatesSc = createServiceClient(TemplateService, templates.url, CREDS.gateway);
}, 120_000);

afterAll(async () => {
  for (const sc of [claimsSc, templatesSc]) sc?.close();
  await claims?.close();
  await host?.close();
  await templates?.close();
  await chat?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

it("answers the creator as the draft, unsaved, through an agent's prompt; shows a tool call without running it; keeps nothing; and refuses everyone else before any model call", async () => {
  const creator = newIdentity();
  const stranger = newIdentity();
  const saved = await signedTemplate(templatesSc.client, creator, sampleContent({}), "private");
  const open = await signedTemplate(templatesSc.client, stranger, sampleContent({}));
  // The draft as edited in the studio: other instructions than the saved version's.
  const draft = contentFromJson(
    sampleContent({
      instructions: "You plan trips to Japan. Always mention the season.",
      model: { default: "draft-model", allow_override: false },
    }),
  );

  const first = await claimsSc.client.tryDraft(
    { templateId: saved.id, content: draft, lines: [said("Where in April?")] },
    as(creator),
  );
  expect(first.answer?.reply).toBe("Kyoto in April: book the ryokan early.");
  expect(first.answer?.toolCalls).toEqual([]);
  const sent = chat.requests.at(-1)!.body;
  expect(sent.model).toBe("draft-model");
  const system = sent.messages[0]!;
  expect(system.role).toBe("system");
  expect(system.content).toContain("You plan trips to Japan. Always mention the season.");
  expect(system.content).not.toContain("You are a travel planning assistant.");
  expect(system.content).toContain("private test chat with your creator");
  expect(sent.messages.at(-1)).toEqual({ role: "user", content: "[owner] creator: Where in April?" });
  // The draft's pool tool is offered (its function), as to an agent of it.
  expect(sent.tools?.map((t) => t.function.name)).toEqual(["send_sms"]);

  // A tool call is shown and answered "not run"; the model says what it would have done.
  const before = chat.requests.length;
  const second = await claimsSc.client.tryDraft(
    {
      templateId: saved.id,
      content: draft,
      lines: [
        said("Where in April?"),
        { fromAgent: true, text: first.answer!.reply },
        said("Please text Ana the plan"),
      ],
    },
    as(creator),
  );
  expect(second.answer?.toolCalls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
    ["send_sms", { to: "+15550100001", text: "Boarding at 9" }],
  ]);
  expect(second.answer?.reply).toContain("Not run: this is a test chat");
  expect(chat.requests.length - before).toBe(2);
  expect(chat.requests.at(-2)!.body.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);

  // A new draft (no template yet) is its creator's to try too.
  const fresh = await claimsSc.client.tryDraft({ content: draft, lines: [said("Hello")] }, as(stranger));
  expect(fresh.answer?.reply).toBe("Kyoto in April: book the ryokan early.");

  // The secret key reaches the model's endpoint as its credential, never a prompt or an answer.
  for (const r of chat.requests) expect(JSON.stringify(r.body)).not.toContain(MODEL_KEY);
  expect(JSON.stringify([first, second, fresh])).not.toContain(MODEL_KEY);
  // Nothing is kept: no agent's workspace on the host.
  expect(await readdir(join(dir, "host", "instances")).catch(() => [])).toEqual([]);

  // Who else might use it, refused before any model call.
  const calls = chat.requests.length;
  await refused(claimsSc.client.tryDraft({ content: draft, lines: [said("Hi")] }), Code.Unauthenticated);
  // Someone else's private template is as a missing one; a public one is theirs to try, not yours.
  const hidden = await refused(
    claimsSc.client.tryDraft({ templateId: saved.id, content: draft, lines: [said("Hi")] }, as(stranger)),
    Code.NotFound,
  );
  const missing = await refused(
    claimsSc.client.tryDraft(
      { templateId: "tmpl_0000000000000000", content: draft, lines: [said("Hi")] },
      as(stranger),
    ),
    Code.NotFound,
  );
  expect(hidden.rawMessage.replace(saved.id, "ID")).toBe(missing.rawMessage.replace("tmpl_0000000000000000", "ID"));
  await refused(
    claimsSc.client.tryDraft({ templateId: open.id, content: draft, lines: [said("Hi")] }, as(creator)),
    Code.PermissionDenied,
  );
  // A bad draft or chat names its field.
  const field = async (req: Parameters<typeof claimsSc.client.tryDraft>[0]) =>
    fieldViolations(await refused(claimsSc.client.tryDraft(req, as(creator)), Code.InvalidArgument)).map(
      (v) => v.field,
    );
  expect(await field({ lines: [said("Hi")] })).toEqual(["content"]);
  expect(await field({ content: { ...draft, instructions: " " }, lines: [said("Hi")] })).toEqual([
    "content.instructions",
  ]);
  expect(await field({ content: draft, lines: [] })).toEqual(["lines"]);
  expect(await field({ content: draft, lines: [said("Hi"), { fromAgent: true, text: "Hello" }] })).toEqual(["lines"]);
  expect(await field({ content: draft, lines: [said("x".repeat(4_001))] })).toEqual(["lines[0].text"]);
  expect(await field({ content: draft, lines: Array.from({ length: 21 }, () => said("Hi")) })).toEqual(["lines"]);
  expect(chat.requests.length).toBe(calls);

  // Each creator's answers are limited: the creator has had 2 of ANSWERS, the stranger 1.
  for (let i = 2; i < ANSWERS; i++)
    await claimsSc.client.tryDraft({ content: draft, lines: [said("Hi")] }, as(creator));
  const spent = chat.requests.length;
  const limited = await refused(
    claimsSc.client.tryDraft({ content: draft, lines: [said("Hi")] }, as(creator)),
    Code.ResourceExhausted,
  );
  expect(limited.rawMessage).toContain("test chat answers per creator");
  expect(chat.requests.length).toBe(spent);
  // Another creator's allowance is their own.
  await claimsSc.client.tryDraft({ content: draft, lines: [said("Hi")] }, as(stranger));
}, 120_000);

it("bounds the test chat as a whole, across two claims services on one database: a crowd of inboxes, each under its own allowance, is told the pool is busy once the pool's answers are spent; a creator past their own spends none of them", async () => {
  const POOL_ANSWERS = 6;
  const databaseUrl = await createTestDatabase("draft_pool_claims");
  const secretsKey = SecretBox.generateKey();
  // One after the other: the first migrates the database the second opens.
  const replicas: RunningClaimsService[] = [];
  const clients: ServiceClient<typeof ClaimService>[] = [];
  const sql = new pg.Client({ connectionString: databaseUrl });
  try {
    for (const name of ["claims-a", "claims-b"]) {
      const r = await startClaimsService({
        budget: OPEN_BUDGET,
        databaseUrl,
        credentials: CREDS.claims,
        templatesUrl: templates.url,
        secretsKey,
        dataDir: join(dir, name),
        pool: { hostUrls: [host.url], target: 0, intervalMs: 3_600_000 },
        limits: { testChatAnswersPerPool: { points: POOL_ANSWERS, seconds: 600 } },
        draftAnswers: { points: 2, seconds: 600 },
        log: quiet(name),
      });
      replicas.push(r);
      clients.push(createServiceClient(ClaimService, r.url, CREDS.gateway));
    }
    await sql.connect();
    const draft = contentFromJson(sampleContent({}));
    const ask = (who: TestIdentity, i: number) =>
      clients[i % 2]!.client.tryDraft({ content: draft, lines: [said("Hi")] }, as(who)).then(
        () => "answered",
        (err: unknown) => limitExceededOf(err)?.limit ?? Code[ConnectError.from(err).code],
      );
    const before = chat.requests.length;

    // A creator past their own allowance (2) is refused as before, and spends none of the pool's.
    const greedy = newIdentity();
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push(await ask(greedy, i));
    expect(mine).toEqual(["answered", "answered", ...Array<string>(3).fill("test chat answers per creator")]);

    // A crowd of fresh inboxes through both services at once, each asking once: the pool's 4 left, no more.
    const crowd = Array.from({ length: 10 }, () => newIdentity());
    const got = await Promise.all(crowd.map((who, i) => ask(who, i)));
    expect(got.filter((g) => g === "answered")).toHaveLength(POOL_ANSWERS - 2);
    expect(got.filter((g) => g !== "answered")).toEqual(
      Array<string>(10 - (POOL_ANSWERS - 2)).fill("test chat answers of the pool"),
    );
    expect(chat.requests.length - before).toBe(POOL_ANSWERS);

    // What a refused creator is told: in people's terms, when to come back, and Retry-After.
    const busy = await refused(
      clients[0]!.client.tryDraft({ content: draft, lines: [said("Hi")] }, as(newIdentity())),
      Code.ResourceExhausted,
    );
    expect(busy.rawMessage).toMatch(
      /^the test chat is busy for everyone right now; try again in (a minute|\d+ minutes)$/,
    );
    const retry = limitExceededOf(busy)!.retryAfterSeconds;
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(600);
    expect(busy.metadata.get("retry-after")).toBe(String(retry));
    expect(chat.requests.length - before).toBe(POOL_ANSWERS);

    // Read back from the one database both open: one counter for the pool; a refused inbox's own answer given back.
    const points = async (key: string) =>
      (await sql.query<{ points: number }>("select points from rate_counters where key = $1", [key])).rows[0]?.points ??
      0;
    expect(await points("test chat answers of the pool:all")).toBeGreaterThanOrEqual(POOL_ANSWERS);
    for (const [i, who] of crowd.entries())
      expect(await points(`test chat answers per creator:${who.inboxId}`), got[i]).toBe(got[i] === "answered" ? 1 : 0);
  } finally {
    await sql.end().catch(() => undefined);
    for (const c of clients) c.close();
    for (const r of replicas) await r.close();
  }
}, 120_000);
