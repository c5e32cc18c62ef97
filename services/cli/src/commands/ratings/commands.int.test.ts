// Ratings from the command line, over the gateway's REST paths and its
// Connect face: the CLI's rating commands against a real gateway, templates
// service, claims service and lineage service on test databases (the
// templates service asks the claims service who owns what, and the lineage
// service, fed by the claims service's relay, on how many days their agent
// answered other people); the claims service's instance host is its tests'
// stand-in (services/claims/test/stand-in-host.ts). A day is made to pass by
// moving the claims database's record of when each owner took their agent
// back; an agent's days with others are written to the lineage database as
// its signed counts would have left them (lineage's
// test/days-with-others.ts). Run with `scripts/with-postgres.sh npx vitest
// run services/cli/src/ratings.int.test.ts`.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TemplateRatingService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { NO_LIMITS, createLogger, generateServiceCredentials } from "@convos-pool/kit/server";
import { createTestDatabase, freePort } from "@convos-pool/testing";
import { OPEN_BUDGET, SecretBox, startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { answeredOthersOn } from "@convos-pool/lineage/testing/days-with-others";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import * as agentCommands from "../agents/commands.js";
import * as keyCommands from "../keys/commands.js";
import * as templateCommands from "../templates/commands.js";
import * as curation from "../curation/commands.js";
import { HttpError } from "../../core/errors.js";
import type { Context } from "../../core/http.js";
import * as ratings from "./commands.js";

const silent = (name: string) => createLogger(name, { level: "silent" });

let dir: string;
let templates: RunningTemplateService;
let claims: RunningClaimsService;
let lineage: RunningLineageService;
let lineageDb: string;
let host: StandInHost;
let gateway: RunningGateway;
let sql: pg.Client;
let base: Context;
let operator: Context;

/** A person with their own key. */
async function person(name: string): Promise<Context & { inboxId: string }> {
  const c: Context = { ...base, keyFile: join(dir, `${name}/key.json`) };
  const k = await keyCommands.keygen(c);
  return { ...c, inboxId: k.inbox_id };
}

/**
 * `who` adds an agent of `templateId` and has held it for `hours`; it
 * answered two people besides them on each of the days `usedDaysAgo` (today
 * and the two before by default: enough to rate).
 */
async function ownFor(who: Context, templateId: string, hours: number, usedDaysAgo = [0, 1, 2]): Promise<void> {
  await claims.pool!.reconcile();
  const invite = `https://dev.convos.org/v2?i=rate-${randomBytes(4).toString("hex")}`;
  const { instance_id: id } = (await agentCommands.claim(who, templateId, invite)) as { instance_id: string };
  await sql.query(
    `update instances set claimed_at = now() - make_interval(hours => $2), owner_since = now() - make_interval(hours => $2) where id = $1`,
    [id, hours],
  );
  await claims.lineage!.drained();
  await answeredOthersOn(lineageDb, id, usedDaysAgo);
}

async function httpError(p: Promise<unknown>): Promise<{ status: number; type: string; field?: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  const body = (err as HttpError).body as { error: { type: string; field?: string } };
  return { status: (err as HttpError).status, ...body.error };
}

beforeAll(async () => {
  const creds = generateServiceCredentials();
  dir = await mkdtemp(join(tmpdir(), "pool-cli-ratings-"));
  operator = { url: "", keyFile: join(dir, "operator/key.json"), cwd: dir };
  const op = await keyCommands.keygen(operator);
  const [claimsPort, lineagePort] = [await freePort(), await freePort()];
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("cli_ratings_templates"),
    port: 0,
    host: "127.0.0.1",
    credentials: creds.templates,
    operators: [op.inbox_id],
    claimsUrl: `http://127.0.0.1:${claimsPort}`,
    lineageUrl: `http://127.0.0.1:${lineagePort}`,
    log: silent("templates"),
  });
  lineageDb = await createTestDatabase("cli_ratings_lineage");
  lineage = await startLineageService({
    databaseUrl: lineageDb,
    port: lineagePort,
    host: "127.0.0.1",
    credentials: creds.lineage,
    templatesUrl: templates.url,
    log: silent("lineage"),
  });
  host = await StandInHost.start(creds["instance-host"]);
  const claimsDb = await createTestDatabase("cli_ratings_claims");
  claims = await startClaimsService({
    budget: OPEN_BUDGET,
    databaseUrl: claimsDb,
    port: claimsPort,
    host: "127.0.0.1",
    credentials: creds.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir: join(dir, "claims"),
    smsRange: "+15550910000..+15550910009",
    pool: { hostUrls: [host.url], target: 2, intervalMs: 3_600_000 },
    limits: NO_LIMITS,
    lineageUrl: lineage.url,
    log: silent("claims"),
  });
  sql = new pg.Client({ connectionString: claimsDb });
  await sql.connect();
  gateway = await startGateway({
    port: 0,
    host: "127.0.0.1",
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    credentials: creds.gateway,
    databaseUrl: await createTestDatabase("cli_ratings_gateway"),
    log: silent("gateway"),
  });
  base = { url: gateway.url.replace(/\/+$/, ""), keyFile: "", cwd: dir };
  operator.url = base.url;
});

afterAll(async () => {
  await sql?.end();
  await gateway?.close();
  await claims?.close();
  await host?.kill();
  await lineage?.close();
  await templates?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("pool rate, reviews, answer-review, report-review, review-reports, remove-review", () => {
  it("rates as an owner of a day, shows ratings from three, sorts top rated, answers, reports and removes over REST", async () => {
    const creator = await person("creator");
    await writeFile(join(dir, "t.json"), JSON.stringify({ agent_name: "Rated Helper", instructions: "Help." }));
    const t = (await templateCommands.createTemplate(creator, "t.json")) as { id: string };
    await templateCommands.publishTemplate(creator, t.id);

    // Refusals name the field: a non-owner, an owner of an hour, the creator, bad stars.
    const stranger = await person("stranger");
    expect(await httpError(ratings.rate(stranger, t.id, 5))).toMatchObject({ status: 403, field: "rater_id" });
    const fresh = await person("fresh");
    await ownFor(fresh, t.id, 1, []);
    expect(await httpError(ratings.rate(fresh, t.id, 5))).toMatchObject({ status: 422, field: "rater_id" });
    expect(await ratings.myRating(fresh, t.id)).toMatchObject({ can_rate: false, review: null });
    // An owner of days whose agent no one but them has spoken to yet.
    const alone = await person("alone");
    await ownFor(alone, t.id, 80, []);
    expect(await httpError(ratings.rate(alone, t.id, 5))).toMatchObject({ status: 422, field: "rater_id" });
    expect(await ratings.myRating(alone, t.id)).toMatchObject({
      can_rate: false,
      reason: "owners rate once their agent has answered at least two other people on three days; yours has not yet",
    });
    expect(await httpError(ratings.rate(creator, t.id, 5))).toMatchObject({ status: 403, field: "rater_id" });

    const owners = [await person("a"), await person("b"), await person("c")];
    for (const o of owners) await ownFor(o, t.id, 30);
    expect(await httpError(ratings.rate(owners[0]!, t.id, 5, "x".repeat(501)))).toMatchObject({
      status: 400,
      field: "review",
    });
    expect(await ratings.myRating(owners[0]!, t.id)).toMatchObject({ can_rate: true, reason: "" });
    await ratings.rate(owners[0]!, t.id, 5, "Great <b>helper</b>");
    expect((await ratings.rate(owners[1]!, t.id, 4)) as { ratings: unknown }).toMatchObject({ ratings: null });
    const third = (await ratings.rate(owners[2]!, t.id, 3, "ok")) as { ratings: { count: number; average: number } };
    expect(third.ratings).toMatchObject({ count: 3, average: 4 });

    const listed = (await templateCommands.browse(base, { sort: "top_rated", limit: 100 })) as {
      templates: { id: string; ratings?: { count: number } }[];
    };
    expect(listed.templates.find((x) => x.id === t.id)?.ratings?.count).toBe(3);

    // The reviews, also over Connect through the gateway: the same answer.
    const shown = (await ratings.reviews(base, t.id)) as { reviews: { reviewer_id: string; text: string }[] };
    expect(shown.reviews.map((r) => r.text)).toEqual(["ok", "Great <b>helper</b>"]);
    const connect = createClient(
      TemplateRatingService,
      createConnectTransport({ baseUrl: base.url, httpVersion: "1.1" }),
    );
    expect((await connect.listReviews({ templateId: t.id })).reviews.map((r) => r.text)).toEqual(
      shown.reviews.map((r) => r.text),
    );

    await ratings.answerReview(creator, t.id, owners[0]!.inboxId, "Thank you!");
    expect(await httpError(ratings.answerReview(creator, t.id, owners[0]!.inboxId, "Again"))).toMatchObject({
      status: 409,
    });

    const reader = await person("reader");
    await ratings.reportReview(reader, t.id, owners[2]!.inboxId, "rude");
    expect(await httpError(ratings.reportReview(reader, t.id, owners[2]!.inboxId, "rude"))).toMatchObject({
      status: 409,
    });
    const reported = (await ratings.reviewReports(operator, { template: t.id })) as {
      reviews: { review: { reviewer_id: string }; report_count: number }[];
    };
    expect(reported.reviews.map((r) => [r.review.reviewer_id, r.report_count])).toEqual([[owners[2]!.inboxId, 1]]);
    await ratings.removeReview(operator, t.id, owners[2]!.inboxId, "  not about the agent ");
    const after = (await ratings.reviews(base, t.id)) as { reviews: { text: string; answer: string }[] };
    expect(after.reviews).toEqual([expect.objectContaining({ text: "Great <b>helper</b>", answer: "Thank you!" })]);
    const log = (await curation.curationLog(operator, { template: t.id })) as { entries: { action: string }[] };
    expect(log.entries[0]).toMatchObject({ action: "RemoveTemplateReview" });
  });
});
