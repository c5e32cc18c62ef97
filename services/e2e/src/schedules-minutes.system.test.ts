// Firings at their minutes, waited for, with real processes (docs/schedules.md,
// "A template's routines" and "Moving an item"): the template and claims
// services (its pg-boss timers), the gateway and an instance host, each from
// its main.ts with the environment deploy/compose.yaml gives it
// (e2e/src/deployed.ts), on the test PostgreSQL server and the local XMTP
// node, the agent on the offline model. A Convos CLI (`agent serve`) makes
// the conversation and its person, Rosa, claims the agent into it. Nothing
// is made due early: each minute is waited for.
//
// - The template declares a daily routine at a minute four to five minutes
//   after it is signed (a routine is kept two minutes ahead at least:
//   routineStart). Once Rosa sets the zone it is kept today at that minute,
//   and at that minute the agent's turn on the template's words is posted
//   once.
// - Rosa's "remind us in 2 minutes to water the plants", which she then
//   moves (MoveSchedule, as `pool schedules move` and the web page call it)
//   to the minute after the one it was due in: nothing is posted at its old
//   time, and at the new minute it is posted once.
// The two run at once. The firing ids are read from the processes' logs, not
// from the posts: the CLI prints a post's text alone.
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { ScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { callerHeaders, createServiceClient } from "@convos-pool/kit/server";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { ask, ConvosCli, type MessageEvent, type ReadyEvent } from "@convos-pool/testing/convos-cli";
import { DeployedPool } from "./deployed.js";

const t0 = Date.now();
const note = (what: string) => console.log(`schedules-minutes: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

/**
 * The conversation's zone: Paris, or New York when Paris is within two hours
 * of midnight, so that a one-time item moved a minute on stays on its day.
 */
const ZONE =
  Number(
    new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", hourCycle: "h23" }).format(
      new Date(),
    ),
  ) >= 22
    ? "America/New_York"
    : "Europe/Paris";
const INSTRUCTION = "Post the day's list.";
const REMINDER = "Reminder: water the plants";
/** How late a post may come after its minute (issue 80: within a minute). */
const LATE_AT_MOST_MS = 60_000;
const MINUTE = 60_000;

let pool: DeployedPool;
let claimsDb: pg.Client;
let cli: ConvosCli;
let ready: ReadyEvent;
let agent: { instanceId: string; inboxId: string };
/** The template routine's minute: four to five minutes after the template is signed. */
let routineAt: number;

const rows = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  (await claimsDb.query(sql, params)).rows as T[];
/** "HH:MM" of `at` in the conversation's zone. */
const clock = (at: number) =>
  new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(
    new Date(at),
  );
const firingIdOf = (itemId: string, at: number) => `${itemId}@${new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z")}`;
/** The agent's posts whose text `match`es, as the CLI reads the conversation. */
const posts = (match: (text: string) => boolean) =>
  cli.events.filter(
    (e): e is MessageEvent =>
      e.event === "message" && e.senderInboxId === agent.inboxId && match(String((e as MessageEvent).content)),
  );
/** The processes' log lines that hold every one of `words`. */
const logged = (...words: string[]) => pool.logLines().filter((l) => words.every((w) => l.includes(w)));
/** Waits until the first post matching `match`, and says when it came. */
async function firstPost(what: string, match: (text: string) => boolean, until: number): Promise<number> {
  await waitFor(what, () => posts(match).length > 0, Math.max(1, until - Date.now()), 100);
  return Date.now();
}

beforeAll(async () => {
  pool = new DeployedPool({ name: "schedules_minutes", sizing: { claims: { POOL_TARGET_IDLE: "1" } } });
  await pool.start();
  claimsDb = new pg.Client({ connectionString: pool.databases.get("claims")! });
  await claimsDb.connect();
  routineAt = Math.ceil((Date.now() + 4 * MINUTE) / MINUTE) * MINUTE;
  const t = createServiceClient(TemplateService, pool.url("templates"), pool.creds.gateway);
  const template = await signedTemplate(
    t.client,
    newIdentity(),
    sampleContent({
      agent_name: "Keeper",
      tools: [],
      routines: [
        {
          id: "daily-list",
          name: "The day's list",
          rrule: "FREQ=DAILY",
          time: clock(routineAt),
          instruction: INSTRUCTION,
        },
      ],
    }),
    "public",
  ).finally(() => t.close());
  await waitFor(
    "an idle agent",
    async () => (await rows(`select 1 from instances where state = 'idle'`)).length > 0,
    120_000,
    250,
  );
  cli = await ConvosCli.start(
    ["agent", "serve", "--name", "Garden", "--profile-name", "Rosa"],
    join(pool.dir, "cli-rosa"),
    { xmtpPort: pool.xmtp!.port },
  );
  ready = await cli.ready();
  const claims = createServiceClient(ClaimService, pool.url("claims"), pool.creds.gateway);
  const { instanceId } = await claims.client
    .claim(
      { requester: ready.inboxId, templateId: template.id, conversationInvite: ready.inviteUrl },
      { headers: callerHeaders(ready.inboxId), timeoutMs: 120_000 },
    )
    .finally(() => claims.close());
  const [row] = await rows<{ inbox_id: string }>(`select inbox_id from instances where id = $1`, [instanceId]);
  agent = { instanceId, inboxId: row!.inbox_id };
  note(`agent claimed, the routine's minute ${((routineAt - Date.now()) / 1000).toFixed(0)} s away`);
}, 600_000);

afterAll(async () => {
  await cli?.stop().catch(() => undefined);
  await claimsDb?.end().catch(() => undefined);
  await pool?.close();
}, 120_000);

describe("firings at their minutes", () => {
  it("a template's routine posts once at its own minute, and a reminder its owner moved posts once at the new minute and nothing at the old", async () => {
    const person = { inboxId: agent.inboxId };
    const kept = await ask(cli, person, `Keeper, time zone ${ZONE}`, /^Kept from my template/, 60_000);
    expect(kept).toBe(
      `Kept from my template (${ZONE}): The day's list: every day at ${clock(routineAt).replace(/^0/, "")}. The owner may pause, move or stop each one.`,
    );
    const [routine] = await rows<{ id: string; next_at: Date }>(
      `select id, next_at from schedule_items where instance_id = $1 and kind = 'routine'`,
      [agent.instanceId],
    );
    // Today's, not tomorrow's: the zone was set more than two minutes before it.
    expect(routine!.next_at.getTime(), "the routine's first occurrence").toBe(routineAt);

    expect(
      await ask(cli, person, "Keeper, remind us in 2 minutes to water the plants", /^I'll remind you/, 60_000),
    ).toMatch(/^I'll remind you (today|tomorrow) at \d{1,2}:\d{2} \([A-Za-z_/]+\): water the plants$/);
    const [reminder] = await rows<{ id: string; next_at: Date }>(
      `select id, next_at from schedule_items where instance_id = $1 and kind = 'reminder'`,
      [agent.instanceId],
    );
    const oldAt = reminder!.next_at.getTime();
    // The minute after the one it was due in: a minute or two later.
    const newAt = Math.ceil(oldAt / MINUTE) * MINUTE + MINUTE;
    const schedules = createServiceClient(ScheduleService, pool.url("claims"), pool.creds.gateway);
    const moved = await schedules.client
      .moveSchedule(
        { instanceId: agent.instanceId, id: reminder!.id, time: clock(newAt) },
        { headers: callerHeaders(ready.inboxId) },
      )
      .finally(() => schedules.close());
    expect(Number(moved.item!.nextAt!.seconds) * 1000).toBe(newAt);
    note(`reminder moved from ${new Date(oldAt).toISOString()} to ${new Date(newAt).toISOString()}`);

    const isReminder = (text: string) => text === REMINDER;
    const isRoutine = (text: string) => text.includes(INSTRUCTION) && !text.startsWith("Kept from my template");
    const [routineCame, reminderCame] = await Promise.all([
      firstPost("the routine posted", isRoutine, routineAt + 2 * LATE_AT_MOST_MS),
      (async () => {
        // Its old time passes, its job runs and finds the item waiting for another occurrence (at least a minute
        // before the new one): nothing posted.
        await new Promise((r) => setTimeout(r, Math.max(0, oldAt - Date.now())));
        await waitFor(
          "the old time's job dropped",
          () => logged("schedule firing dropped", reminder!.id).length > 0,
          30_000,
          200,
        );
        await new Promise((r) => setTimeout(r, 3_000));
        expect(posts(isReminder), "reminders posted by its old time").toHaveLength(0);
        return firstPost("the reminder posted", isReminder, newAt + 2 * LATE_AT_MOST_MS);
      })(),
    ]);
    note(
      `routine posted ${((routineCame - routineAt) / 1000).toFixed(1)} s after its minute, reminder ${((reminderCame - newAt) / 1000).toFixed(1)} s after its new one`,
    );
    expect(routineCame, "the routine at its minute").toBeGreaterThanOrEqual(routineAt);
    expect(routineCame - routineAt).toBeLessThanOrEqual(LATE_AT_MOST_MS);
    expect(reminderCame, "the reminder at its new minute").toBeGreaterThanOrEqual(newAt);
    expect(reminderCame - newAt).toBeLessThanOrEqual(LATE_AT_MOST_MS);

    // Moved on, and a second post would be on its way by now; a moment more for it to reach the CLI.
    await waitFor(
      "the claims service to move both on",
      async () =>
        (
          await rows(`select 1 from schedule_items where (id, last_firing_id) in (($1, $2), ($3, $4))`, [
            routine!.id,
            firingIdOf(routine!.id, routineAt),
            reminder!.id,
            firingIdOf(reminder!.id, newAt),
          ])
        ).length === 2,
      30_000,
      200,
    );
    await new Promise((r) => setTimeout(r, 3_000));
    expect(posts(isRoutine)).toHaveLength(1);
    expect(posts(isReminder)).toHaveLength(1);
    expect(logged("schedule firing answered", firingIdOf(routine!.id, routineAt))).toHaveLength(1);
    expect(logged("schedule firing posted", firingIdOf(reminder!.id, newAt))).toHaveLength(1);
    expect(logged(firingIdOf(reminder!.id, oldAt)).filter((l) => l.includes("schedule firing posted"))).toHaveLength(0);
  }, 600_000);
});
