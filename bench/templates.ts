// Store and create benchmark of the templates service on real PostgreSQL.
// Run: npm run bench   (starts a throwaway PostgreSQL; prints figures)
// Loads BENCH_TEMPLATES (100,000) public templates, then measures store search
// and browse latency through the service over gRPC, the bare SQL of the same
// search straight against PostgreSQL (the ratio is the figure that counts on a
// noisy machine), and signed creates per second.
import { performance } from "node:perf_hooks";
import pg from "pg";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { StoreSort, TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { contentFromJson, contentToJson, jsonHash } from "@convos-pool/kit/content";
import { deriveInboxId, signOperation } from "@convos-pool/kit/signing";
import { createServiceClient, generateServiceCredentials, serviceEnv } from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { planStoreQuery, runStorePlan, type ListedRow } from "@convos-pool/templates";
import { figures, fmt, size, startChild, type Figures } from "./lib.js";

const TEMPLATES = size("BENCH_TEMPLATES", 100_000, 2_000);
const SEARCHES = size("BENCH_SEARCHES", 2000, 60);
const CREATES = size("BENCH_CREATES", 1500, 40);
const CREATE_CONCURRENCY = 16;

// A vocabulary large enough that one word matches a few percent of the store,
// as a real word does in a real store.
const WORDS = (
  "travel trip planner japan tokyo kyoto greece island beach hotel flight booking restaurant food recipe cooking " +
  "vegan diet fitness workout running yoga health doctor sleep music guitar piano song lyrics movie film book " +
  "reading writing poetry story novel essay grammar language spanish french german english tutor math physics " +
  "chemistry biology history science coding python rust javascript typescript database sql server cloud devops " +
  "security crypto wallet bitcoin ethereum trading stocks budget finance tax invoice accounting legal contract " +
  "lawyer email calendar meeting schedule reminder task todo project manager team startup marketing sales seo " +
  "social media twitter design logo color photo camera video editing podcast news weather garden plant pet dog " +
  "cat kids parenting school homework exam study career resume interview job salary negotiation friend dating " +
  "wedding party event birthday gift shopping fashion style home cleaning repair car bike commute city map " +
  "museum art painting drawing game chess puzzle trivia quiz sport football soccer tennis golf ski hiking camping " +
  "fishing wine beer coffee tea bakery pizza sushi ramen taco burger salad soup dessert chocolate breakfast lunch " +
  "dinner snack groceries deals coupons charity volunteer church meditation journal mood therapy coach mentor"
).split(" ");
const CATEGORIES = [
  "travel",
  "food",
  "health",
  "learning",
  "coding",
  "finance",
  "productivity",
  "social",
  "home",
  "fun",
];

function pick<T>(xs: readonly T[], n: number): T[] {
  return Array.from({ length: n }, () => xs[Math.floor(Math.random() * xs.length)]!);
}

/**
 * Times each of `fns` on the same n inputs, interleaved (input i through every
 * fn, then input i+1), so that a noisy moment on a shared machine hits all of
 * them alike instead of one whole series.
 */
type Timed = (i: number) => Promise<unknown>;

async function timeInterleaved<const F extends readonly Timed[]>(
  n: number,
  ...fns: F
): Promise<{ [K in keyof F]: Figures }> {
  const ms = fns.map(() => [] as number[]);
  for (let i = 0; i < n; i++) {
    for (const [k, fn] of fns.entries()) {
      const t = performance.now();
      await fn(i);
      ms[k]!.push(performance.now() - t);
    }
  }
  return ms.map(figures) as { [K in keyof F]: Figures };
}

/** MikroORM-style `?` placeholders to pg's `$n`. */
function toPg(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

async function main() {
  const databaseUrl = await createTestDatabase("bench");
  const creds = generateServiceCredentials();
  // The templates service in its own process, as it runs in production (the client here does not share its event loop).
  const service = await startChild("services/templates/src/main.ts", {
    DATABASE_URL: databaseUrl,
    ...serviceEnv(creds.templates),
    // 20 creators make 1,500 creates in seconds: no limit on their writes.
    POOL_LIMITS: "template-writes.caller=off",
  });
  try {
    await measure(databaseUrl, service.url, creds);
  } finally {
    await service.stop();
  }
}

async function measure(databaseUrl: string, serviceUrl: string, creds: ReturnType<typeof generateServiceCredentials>) {
  const client = createServiceClient(TemplateService, serviceUrl, creds.gateway).client;
  const raw = new pg.Client({ connectionString: databaseUrl });
  await raw.connect();

  // ---- load
  let t = performance.now();
  const creator = deriveInboxId(privateKeyToAccount(generatePrivateKey()).address);
  const batch = 5000;
  for (let start = 0; start < TEMPLATES; start += batch) {
    const rows = Array.from({ length: Math.min(batch, TEMPLATES - start) }, (_, i) => ({
      id: `tmpl_b${String(start + i).padStart(15, "0")}`,
      name: pick(WORDS, 2).join(" "),
      description: pick(WORDS, 12).join(" "),
      tags: [...new Set(pick(WORDS, 3))],
      category: pick(CATEGORIES, 1)[0],
      usage: Math.floor(Math.random() ** 3 * 10_000),
      at: new Date(Date.UTC(2026, 0, 1) + (start + i) * 60_000).toISOString(),
    }));
    await raw.query(
      `insert into templates (id, creator_id, agent_name, instructions, model, tools, description, category, tags,
         visibility, status, version, content_version, usage_count, recent_owners, created_at, updated_at)
       select r.id, $2, r.name, 'You are a helpful agent.', '{"default":"gpt-oss-20b","allow_override":true}', '[]',
         r.description, r.category, array(select jsonb_array_elements_text(r.tags)), 'public', 'active', 1, 1, r.usage, r.usage / 3,
         r.at::timestamptz, r.at::timestamptz
       from jsonb_to_recordset($1::jsonb) as r(id text, name text, description text, tags jsonb, category text, usage int, at text)`,
      [JSON.stringify(rows), creator],
    );
  }
  await raw.query("vacuum analyze templates");
  const loadSeconds = (performance.now() - t) / 1000;

  // ---- search: the same queries through the service and as bare SQL
  const queries = Array.from({ length: SEARCHES }, (_, i) =>
    i % 3 === 2 ? pick(WORDS, 2).join(" ") : pick(WORDS, 1)[0]!,
  );
  const warm = Math.min(50, SEARCHES);
  for (let i = 0; i < warm; i++) await client.browseStore({ query: queries[i]!, pageSize: 20 });
  // The service's own selects (and fallbacks), straight on a pg connection.
  const bare = (query: string, sort: StoreSort) =>
    runStorePlan(
      planStoreQuery({ query, category: "", sort, limit: 20, pageToken: "" }),
      async (s) => (await raw.query(toPg(s.sql), s.params)).rows as ListedRow[],
    );
  const [searchService, searchRaw] = await timeInterleaved(
    SEARCHES,
    (i) => client.browseStore({ query: queries[i]!, pageSize: 20 }),
    (i) => bare(queries[i]!, StoreSort.UNSPECIFIED),
  );
  const [relevanceService, relevanceRaw] = await timeInterleaved(
    Math.min(SEARCHES, 500), // each scores every match: slower
    (i) => client.browseStore({ query: queries[i]!, sort: StoreSort.RELEVANCE }),
    (i) => bare(queries[i]!, StoreSort.RELEVANCE),
  );
  const matches = await raw.query(
    `select avg(n)::int as n from (select (select count(*) from templates where search @@ websearch_to_tsquery('english', q)) as n
       from unnest($1::text[]) as q) s`,
    [queries.slice(0, 50)],
  );

  // ---- browse: first pages and deep pages, newest and most used, with and without a category
  const tokens: string[] = [];
  let token = "";
  for (let i = 0; i < 50; i++) {
    const page = await client.browseStore({ sort: StoreSort.NEWEST, pageSize: 20, pageToken: token });
    token = page.nextPageToken;
    tokens.push(token);
  }
  const [browse] = await timeInterleaved(SEARCHES, (i) => {
    switch (i % 4) {
      case 0:
        return client.browseStore({ sort: StoreSort.NEWEST, pageSize: 20 });
      case 1:
        return client.browseStore({ sort: StoreSort.MOST_USED, pageSize: 20 });
      case 2:
        return client.browseStore({
          sort: StoreSort.NEWEST,
          category: CATEGORIES[i % CATEGORIES.length]!,
          pageSize: 20,
        });
      default:
        return client.browseStore({ sort: StoreSort.NEWEST, pageSize: 20, pageToken: tokens[i % tokens.length]! });
    }
  });

  // ---- creates with signature checking: requests are signed up front (that is the client's work)
  const accounts = Array.from({ length: 20 }, () => privateKeyToAccount(generatePrivateKey()));
  const requests = await Promise.all(
    Array.from({ length: CREATES }, async (_, i) => {
      const account = accounts[i % accounts.length]!;
      const inboxId = deriveInboxId(account.address);
      const content = contentFromJson({
        agent_name: `Bench agent ${i}`,
        instructions: "You are a helpful agent. ".repeat(40),
        model: { default: "gpt-oss-20b", allow_override: true },
        tools: [{ id: "sms", name: "SMS", provisioning: "pool", description: "", prompt: "", required: false }],
        description: pick(WORDS, 12).join(" "),
        category: "fun",
        tags: ["bench"],
      });
      const signature = await signOperation(account, "CreateTemplate", {
        inboxId,
        contentHash: jsonHash(contentToJson(content)),
      });
      return { creatorId: inboxId, content, signature };
    }),
  );
  t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < requests.length) await client.createTemplate(requests[next++]!);
    }),
  );
  const createsPerSecond = CREATES / ((performance.now() - t) / 1000);

  await raw.end();

  const lines = [
    `templates service benchmark: ${TEMPLATES.toLocaleString("en")} public templates (loaded in ${loadSeconds.toFixed(1)} s), ${SEARCHES} queries each`,
    `search queries: 1 or 2 words, ~${matches.rows[0].n} matching templates per query on average; pages of 20`,
    ``,
    `                               p50 ms   p99 ms  mean ms   target`,
    `store search, most used first (the default for a query):`,
    `store search (service, gRPC) ${fmt(searchService.p50)} ${fmt(searchService.p99)} ${fmt(searchService.mean)}   p99 <= 20 ms`,
    `store search (bare SQL)      ${fmt(searchRaw.p50)} ${fmt(searchRaw.p99)} ${fmt(searchRaw.mean)}`,
    `ratio service / bare SQL     ${fmt(searchService.p50 / searchRaw.p50)} ${fmt(searchService.p99 / searchRaw.p99)} ${fmt(searchService.mean / searchRaw.mean)}   <= 2x`,
    `relevance search (service)   ${fmt(relevanceService.p50)} ${fmt(relevanceService.p99)} ${fmt(relevanceService.mean)}`,
    `relevance search (bare SQL)  ${fmt(relevanceRaw.p50)} ${fmt(relevanceRaw.p99)} ${fmt(relevanceRaw.mean)}`,
    `ratio service / bare SQL     ${fmt(relevanceService.p50 / relevanceRaw.p50)} ${fmt(relevanceService.p99 / relevanceRaw.p99)} ${fmt(relevanceService.mean / relevanceRaw.mean)}`,
    `browse one page (service)    ${fmt(browse.p50)} ${fmt(browse.p99)} ${fmt(browse.mean)}   p99 <= 10 ms`,
    ``,
    `signed creates: ${createsPerSecond.toFixed(0)} per second (${CREATES} creates, ${CREATE_CONCURRENCY} concurrent, each signature verified)   target >= 300/s`,
  ];
  console.log(lines.join("\n"));
}

await main();
