// Look-alike templates held at publish (docs/store.md, "Look-alike
// templates"), on a real PostgreSQL and real gRPC: the templates service as
// it runs, its operators' signed relist, "most used" from real uses
// (RecordTemplateUse). Creators and operators are local identities signing
// real EIP-712 requests; nothing is a stand-in but the claims service, whose
// reads (the release with its delisting) are made here with its credential.
import { randomBytes } from "node:crypto";
import { Code, type Client } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreCurationService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  StoreSort,
  TemplateReleaseService,
  TemplateService,
  TemplateUsageService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { contentToJson, type TemplateContentJson } from "@convos-pool/kit/content";
import { createServiceClient, generateServiceCredentials } from "@convos-pool/kit/server";
import { signOperation } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import {
  newIdentity,
  sampleContent,
  signedContentUpdate,
  signedPublish,
  signedTemplate,
  type TestIdentity,
} from "@convos-pool/kit/testing";
import { startTemplateService, type RunningTemplateService } from "../server.js";
import { as, expectCode } from "../../test/helpers.js";
import { HOLD_ACTION, MIN_POPULAR_DAYS, MIN_POPULAR_OWNERS, POOL_ACTOR } from "./look-alike.js";

const CREDS = generateServiceCredentials();
const operator = newIdentity();

let service: RunningTemplateService;
let templates: Client<typeof TemplateService>;
let curation: Client<typeof StoreCurationService>;
let usage: Client<typeof TemplateUsageService>;
let sql: pg.Client;
let databaseUrl: string;

/** Instructions long enough to compare (about 120 words), with a wallet a copier would change. */
const TRAVEL = [
  "You are a travel planning assistant for groups of friends and families.",
  "Ask where they want to go, when, for how long and on what budget, then propose a day by day plan.",
  "Suggest trains before flights when the trip is short, and always give the time each leg takes.",
  "Keep a shared list of bookings in the conversation and remind everyone of check-in times the day before.",
  "When someone asks for a deposit, collect it to the group wallet 0x1111222233334444555566667777888899990000.",
  "Never book anything without a clear yes from the person who asked, and say what it costs first.",
  "At the end of each day, sum up what was decided and what is still open, in a short list.",
].join(" ");
const HOLIDAYS = [
  "You organise holidays for couples who want quiet places by the sea or in the mountains.",
  "Start by asking which months they can travel and which of the two of them gets seasick or dislikes heights.",
  "Offer three places with a line each on how to get there, what a night costs and what there is to do when it rains.",
  "Once they choose, hold the rooms for a day and ask for the deposit to wallet 0x1111222233334444555566667777888899990000.",
  "Send a packing list a week before they leave and a reminder of the first train or ferry the evening before.",
].join(" ");
const RECIPES = [
  "You suggest dinners from what is already in the fridge, for households of one to six people.",
  "Ask what they have, how much time they have tonight and whether anyone avoids meat, nuts, gluten or dairy.",
  "Give one recipe at a time with quantities for their household, the steps numbered, and the total time at the top.",
  "Offer a swap for any ingredient they lack, and say which leftovers keep for lunch the next day.",
  "Once a week, propose a shopping list that uses up what is about to go off before buying anything new.",
].join(" ");
const BUDGET = [
  "You help a household keep a monthly budget in the group chat, in the currency they name.",
  "When someone posts a receipt, record the amount, the shop and the category, and confirm it in one line.",
  "Every Sunday post the spending of the week by category against the plan, with the largest three items.",
  "Warn kindly when a category passes eighty percent of its plan before the twentieth of the month.",
  "Never move money or ask for card numbers: you only keep the list and answer questions about it.",
].join(" ");
const CHESS = [
  "You coach chess players rated between eight hundred and fifteen hundred through daily puzzles.",
  "Each day post one position from a real game, ask for the best move, and wait for every member to answer.",
  "Explain the idea behind the solution in plain words, then show the line that refutes the most common wrong answer.",
  "Keep a score for each member over the month, and on the last day announce who solved the most.",
  "Suggest one classic game a week to replay, with the three moments worth stopping at.",
].join(" ");
const LANGUAGES =
  "You help people learn Spanish verbs with short daily drills. Each morning send five verbs to conjugate, correct the answers kindly, and on Friday give a quiz about the week with a score and the three verbs to practise again.";

/** A template of `c` in a category of its own, published; the template as it is now. */
async function published(c: TestIdentity, over: Partial<TemplateContentJson>): Promise<Template> {
  const t = await signedTemplate(templates, c, sampleContent(over), "private");
  return signedPublish(templates, c, t);
}

/** Makes `t` popular: this many distinct owners used it today. */
/** `owners` distinct owners use `t`, which was made a week and a day ago (unless `fresh`). */
async function useBy(t: Template, owners: number, fresh = false): Promise<void> {
  const ownerIds = Array.from({ length: owners }, () => newIdentity().inboxId);
  await usage.recordTemplateUse({ templateId: t.id, count: BigInt(owners), ownerIds });
  if (!fresh)
    await sql.query(`update templates set created_at = now() - interval '1 day' * $2 where id = $1`, [
      t.id,
      MIN_POPULAR_DAYS + 1,
    ]);
}

const inStore = async (category: string) =>
  (await templates.browseStore({ category, sort: StoreSort.NEWEST })).templates.map((x) => x.id);

async function relist(templateId: string): Promise<Template> {
  const signature = await signOperation(operator.account, "RelistTemplate", {
    inboxId: operator.inboxId,
    templateId,
    note: "a different trip planner",
  });
  return (
    await curation.relistTemplate({
      operatorId: operator.inboxId,
      templateId,
      note: "a different trip planner",
      signature,
    })
  ).template!;
}

beforeAll(async () => {
  databaseUrl = await createTestDatabase("look_alike");
  service = await startTemplateService({
    databaseUrl,
    credentials: CREDS.templates,
    operators: [operator.inboxId],
  });
  templates = createServiceClient(TemplateService, service.url, CREDS.gateway).client;
  curation = createServiceClient(StoreCurationService, service.url, CREDS.gateway).client;
  usage = createServiceClient(TemplateUsageService, service.url, CREDS.claims).client;
  sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await service?.close();
});

describe("a template that copies a popular template of another creator", () => {
  it("is held at publish: out of the store, no agents for strangers, its creator told why, until an operator relists it", async () => {
    const category = `cat-${randomBytes(4).toString("hex")}`;
    const alice = newIdentity();
    const bob = newIdentity();
    const popular = await published(alice, { agent_name: "Trip Planner", instructions: TRAVEL, category });
    await useBy(popular, MIN_POPULAR_OWNERS + 2);

    // "Trip Ρlanner", a Greek Rho for the P, with instructions of its own.
    const copy = await published(bob, { agent_name: "Trip \u03A1lanner", instructions: LANGUAGES, category });
    const reason = `held for the operators' review: its name looks like that of "Trip Planner" (${popular.id}), a popular template of another creator`;
    expect(copy.delisting).toMatchObject({ reason, operatorId: POOL_ACTOR });

    // As a delisted one: not in the store nor in a search, hidden from strangers, no agents from them.
    expect(await inStore(category)).toEqual([popular.id]);
    const search = await templates.browseStore({ query: "Trip Planner", sort: StoreSort.MOST_USED });
    expect(search.templates.map((x) => x.id)).not.toContain(copy.id);
    await expectCode(templates.getTemplate({ templateId: copy.id }, as(newIdentity())), Code.NotFound);
    const claims = createServiceClient(TemplateReleaseService, service.url, CREDS.claims).client;
    expect((await claims.getTemplateRelease({ templateId: copy.id })).template?.delisting?.reason).toBe(reason);
    const feature = await signOperation(operator.account, "SetFeatured", {
      inboxId: operator.inboxId,
      templateId: copy.id,
      featured: true,
    });
    await expectCode(
      curation.setFeatured({ operatorId: operator.inboxId, templateId: copy.id, featured: true, signature: feature }),
      Code.FailedPrecondition,
    );

    // Its creator sees why, on the template and in the curation log: the pool's own entry, unsigned.
    expect((await templates.getTemplate({ templateId: copy.id }, as(bob))).template?.delisting?.reason).toBe(reason);
    const [entry] = (await curation.listCurationLog({ templateId: copy.id }, as(bob))).entries;
    expect(entry).toMatchObject({ actorId: POOL_ACTOR, action: HOLD_ACTION, templateId: copy.id });
    expect(entry?.signature).toBeUndefined();
    expect(JSON.parse(entry!.fieldsJson)).toEqual({
      version: String(copy.version),
      resemblesTemplateId: popular.id,
      resemblesName: "Trip Planner",
      matched: ["name"],
      reason,
    });
    // Operators find it among the delistings.
    expect((await curation.listDelistings({}, as(operator))).templates.map((x) => x.id)).toContain(copy.id);

    // An operator lets it through with the signed relist of any delisting: in the store.
    expect((await relist(copy.id)).delisting).toBeUndefined();
    expect(new Set(await inStore(category))).toEqual(new Set([popular.id, copy.id]));
    expect((await templates.getTemplate({ templateId: copy.id }, as(newIdentity()))).template?.id).toBe(copy.id);

    // What the operator let through stays through: a new version with the same name is not held again…
    const current = (await templates.getTemplate({ templateId: copy.id }, as(bob))).template!;
    const fixed = await signedContentUpdate(templates, bob, current, {
      ...contentToJson(current.content!),
      instructions: `${LANGUAGES} Keep it fun.`,
    });
    expect(fixed.delisting).toBeUndefined();
    // …but copying the instructions too is a new way to resemble it: held again.
    const copied = await signedContentUpdate(templates, bob, fixed, {
      ...contentToJson(fixed.content!),
      instructions: TRAVEL.replace("0x1111222233334444555566667777888899990000", "0xbad0bad0bad0"),
    });
    expect(copied.delisting?.reason).toContain("its name and instructions look like those of");
    expect(await inStore(category)).toEqual([popular.id]);
  });

  it("is held for its instructions alone: copied nearly word for word under another name, a payment address changed", async () => {
    const category = `cat-${randomBytes(4).toString("hex")}`;
    const popular = await published(newIdentity(), {
      agent_name: "Holiday Helper",
      instructions: HOLIDAYS,
      category,
    });
    await useBy(popular, MIN_POPULAR_OWNERS);
    const copy = await published(newIdentity(), {
      agent_name: "Vacation Organiser",
      instructions: HOLIDAYS.replace("0x1111222233334444555566667777888899990000", "0x2222"),
      category,
    });
    expect(copy.delisting?.reason).toBe(
      `held for the operators' review: its instructions are nearly the same as those of "Holiday Helper" (${popular.id}), a popular template of another creator`,
    );
    expect(await inStore(category)).toEqual([popular.id]);
  });

  it("is held when a public template is renamed to look like a popular one", async () => {
    const category = `cat-${randomBytes(4).toString("hex")}`;
    const popular = await published(newIdentity(), { agent_name: "Recipe Helper", instructions: RECIPES, category });
    await useBy(popular, MIN_POPULAR_OWNERS);
    const carol = newIdentity();
    const mine = await published(carol, { agent_name: "Garden Diary", instructions: LANGUAGES, category });
    expect(mine.delisting).toBeUndefined();
    const renamed = await signedContentUpdate(templates, carol, mine, {
      ...contentToJson(mine.content!),
      agent_name: "Rec1pe Helper",
    });
    expect(renamed.delisting?.reason).toContain(`"Recipe Helper" (${popular.id})`);
    expect(await inStore(category)).toEqual([popular.id]);
  });
});

describe("what is not held", () => {
  it("another creator's unrelated template, the popular template's own new version, and its creator's second one", async () => {
    const category = `cat-${randomBytes(4).toString("hex")}`;
    const dana = newIdentity();
    const popular = await published(dana, { agent_name: "Budget Buddy", instructions: BUDGET, category });
    await useBy(popular, MIN_POPULAR_OWNERS + 5);

    const other = await published(newIdentity(), { agent_name: "Verb Coach", instructions: LANGUAGES, category });
    expect(other.delisting).toBeUndefined();

    // Its creator's own: a new version, and a second template with the same name and instructions.
    const current = (await templates.getTemplate({ templateId: popular.id })).template!;
    const v2 = await signedContentUpdate(templates, dana, current, {
      ...contentToJson(current.content!),
      instructions: `${BUDGET} Be brief.`,
    });
    expect(v2.delisting).toBeUndefined();
    const again = await published(dana, { agent_name: "Budget Buddy", instructions: BUDGET, category });
    expect(again.delisting).toBeUndefined();
    expect(new Set(await inStore(category))).toEqual(new Set([popular.id, other.id, again.id]));
    expect(
      (await sql.query(`select 1 from template_delistings where template_id = any($1)`, [[other.id, again.id]])).rows,
    ).toEqual([]);
  });

  it("a copy of a template with fewer than MIN_POPULAR_OWNERS distinct owners: not popular, not compared", async () => {
    const category = `cat-${randomBytes(4).toString("hex")}`;
    const quiet = await published(newIdentity(), { agent_name: "Chess Coach", instructions: CHESS, category });
    await useBy(quiet, MIN_POPULAR_OWNERS - 1);
    const copy = await published(newIdentity(), { agent_name: "Chess Coach", instructions: CHESS, category });
    expect(copy.delisting).toBeUndefined();
    expect(new Set(await inStore(category))).toEqual(new Set([quiet.id, copy.id]));
  });

  it("a copy of a much used template made less than MIN_POPULAR_DAYS ago: not popular yet, not compared", async () => {
    const category = `cat-${randomBytes(4).toString("hex")}`;
    const young = await published(newIdentity(), { agent_name: "Chess Coach", instructions: CHESS, category });
    await useBy(young, MIN_POPULAR_OWNERS + 5, true);
    const copy = await published(newIdentity(), { agent_name: "Chess Coach", instructions: CHESS, category });
    expect(copy.delisting).toBeUndefined();
    // A week on, the next copy is held.
    await sql.query(`update templates set created_at = now() - interval '1 day' * $2 where id = $1`, [
      young.id,
      MIN_POPULAR_DAYS,
    ]);
    const later = await published(newIdentity(), { agent_name: "Chess Coach", instructions: CHESS, category });
    expect(later.delisting?.reason).toMatch(/held for the operators' review/);
  });
});
