// A template's routines kept and fired on the real stack (docs/templates.md,
// "Routines"): the template declares "every Monday at 9:00: post the week's
// plan" and "every day at 23:59: post the day's list"; Saul (a real Convos
// CLI serving the conversation) owns its agent, Ana joined by the invite as
// the Convos apps do. Once Saul sets the conversation's zone, the agent asks
// the claims service for the routines on its own behalf, in that zone, and
// says so in the conversation; Saul may pause, resume and move them through
// ScheduleService (as the web page and `pool schedules` call it, through the
// gateway's identity header), Ana may not cancel or move them. Saul moves the
// daily one to the coming minute: the claims service's timer
// fires it and the agent posts its turn's answer once, as Ana reads it. Real:
// PostgreSQL, the XMTP node, the instance host (its offline model answers the
// routine's turn), the claims service with its pg-boss timers, the template
// and keys services, the Convos CLI. One stand-in: the old minute (23:59)'s
// job is made due now in the claims database rather than waited for, to show
// that it fires nothing once the item has moved, and so is the new minute's,
// once the test has seen the move set it at that minute
// (schedules.int.test.ts waits for a real old minute, and
// schedules-minutes.system.test.ts for real new ones).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { ScheduleAskerRole, ScheduleKind } from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import { ScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
import { callerHeaders, createServiceClient, type ServiceClient } from "@convos-pool/kit/server";
import { waitFor } from "@convos-pool/testing";
import { said, type ConvosCli } from "@convos-pool/testing/convos-cli";
import type { Person } from "@convos-pool/convos/person";
import { PeopleStack } from "./people-stack.js";

/**
 * The conversation's zone: Paris, or New York when Paris is within two hours
 * of midnight, so that the daily routine's 23:59 and the minute it is moved
 * to both fall later today there (a rule moves within its occurrence's day).
 */
const ZONE =
  Number(
    new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", hourCycle: "h23" }).format(
      new Date(),
    ),
  ) >= 22
    ? "America/New_York"
    : "Europe/Paris";
const DAILY = "Post the day's list.";

const people = new PeopleStack({
  stack: { name: "template-routines-e2e", conversationName: "Planning", claims: { pool: { target: 1 } } },
  template: {
    agent_name: "Planner",
    tools: [],
    routines: [
      {
        id: "weekly-plan",
        name: "The week's plan",
        rrule: "FREQ=WEEKLY;BYDAY=MO",
        time: "09:00",
        instruction: "Post the week's plan.",
      },
      { id: "daily-list", name: "The day's list", rrule: "FREQ=DAILY", time: "23:59", instruction: DAILY },
    ],
  },
  people: ["Ana"],
});
const stack = people.stack;
let saulCli: ConvosCli;
let ana: Person;
let schedules: ServiceClient<typeof ScheduleService>;

beforeAll(async () => {
  ({ ownerCli: saulCli } = await people.start());
  ana = people.person("Ana");
  // As `npm start`: the host's agents keep time at the claims service (its HostScheduleService).
  await stack.host!.close();
  await stack.startHost({ schedulesUrl: stack.claims!.url });
  await waitFor("the agent back", () => people.agent.health().state === InstanceState.CLAIMED, 30_000);
  schedules = createServiceClient(ScheduleService, stack.claims!.url, stack.creds.gateway);
}, 240_000);

afterAll(async () => {
  schedules?.close();
  await people.close();
}, 60_000);

/** `at` as the conversation's zone reads it: "Monday 09:00". */
const local = (at: Date, weekday = true) =>
  new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONE,
    ...(weekday ? { weekday: "long" as const } : {}),
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(at);
const instant = (t: { seconds: bigint } | undefined) => new Date(Number(t!.seconds) * 1000);
/** The claims service's firing id of an occurrence (policy.ts firingId). */
const firingIdOf = (itemId: string, at: Date) => `${itemId}@${at.toISOString().replace(".000Z", "Z")}`;
const owner = () => ({ headers: callerHeaders(people.owner.inboxId) });
const member = () => ({ headers: callerHeaders(ana.inboxId) });

describe("a template's routine on the real stack", () => {
  it("is kept on the agent's own behalf in the zone its owner sets; the owner pauses, resumes and moves it, a member cannot cancel or move it", {
    timeout: 90_000,
  }, async () => {
    const agent = people.agent;
    const asked = await saulCli.send(`Planner, time zone ${ZONE}`);
    expect(await said(saulCli, agent, asked, /^Kept from my template/)).toBe(
      `Kept from my template (${ZONE}): The week's plan: every Monday at 9:00; The day's list: every day at 23:59. The owner may pause, move or stop each one.`,
    );
    const { items } = await schedules.client.listSchedules({ instanceId: agent.id }, owner());
    expect(items).toHaveLength(2);
    const item = items.find((i) => i.rrule === "FREQ=WEEKLY;BYDAY=MO");
    expect(item).toMatchObject({
      conversationId: stack.ready.conversationId,
      askedByInboxId: agent.inboxId,
      // Judged a member, shown as its template's.
      askedByRole: ScheduleAskerRole.TEMPLATE,
      kind: ScheduleKind.ROUTINE,
      text: "Post the week's plan.",
      timeZone: ZONE,
    });
    // Its next occurrence: a Monday, 9:00 in the conversation's zone.
    expect(local(instant(item!.nextAt))).toBe("Monday 09:00");

    // Ana, a member, did not ask for it: she may not cancel it.
    const refused = await schedules.client.cancelSchedule({ instanceId: agent.id, id: item!.id }, member()).then(
      () => undefined,
      (err: unknown) => ConnectError.from(err),
    );
    expect(refused?.code).toBeOneOf([Code.PermissionDenied, Code.NotFound]);

    const paused = await schedules.client.pauseSchedule({ instanceId: agent.id, id: item!.id }, owner());
    expect(paused.item?.paused).toBe(true);
    const resumed = await schedules.client.resumeSchedule({ instanceId: agent.id, id: item!.id }, owner());
    expect(resumed.item?.paused).toBe(false);
    expect((await schedules.client.listSchedules({ instanceId: agent.id }, owner())).items).toHaveLength(2);

    // Saul moves it to 8:30 in this conversation: still Mondays, in its zone; Ana may not move it.
    const notHers = await schedules.client
      .moveSchedule({ instanceId: agent.id, id: item!.id, time: "08:30" }, member())
      .then(
        () => undefined,
        (err: unknown) => ConnectError.from(err),
      );
    expect(notHers?.code).toBe(Code.PermissionDenied);
    const moved = await schedules.client.moveSchedule({ instanceId: agent.id, id: item!.id, time: "08:30" }, owner());
    expect(moved.item).toMatchObject({ id: item!.id, askedByRole: ScheduleAskerRole.TEMPLATE });
    expect(local(instant(moved.item!.nextAt))).toBe("Monday 08:30");
  });

  it("fires the minute its owner moved it to (its timer set there), once, as the agent's own turn, and its old minute fires nothing", {
    timeout: 150_000,
  }, async () => {
    const agent = people.agent;
    const { items } = await schedules.client.listSchedules({ instanceId: agent.id }, owner());
    const daily = items.find((i) => i.rrule === "FREQ=DAILY");
    expect(daily).toBeDefined();
    const oldAt = instant(daily!.nextAt);
    expect(local(oldAt, false)).toBe("23:59");

    // The coming minute at least 20 s away (20 to 80 s): time to move it, with room for a loaded machine.
    const newAt = new Date(Math.ceil((Date.now() + 20_000) / 60_000) * 60_000);
    const moved = await schedules.client.moveSchedule(
      { instanceId: agent.id, id: daily!.id, time: local(newAt, false) },
      owner(),
    );
    expect(instant(moved.item!.nextAt).getTime()).toBe(newAt.getTime());
    expect(moved.item?.askedByRole).toBe(ScheduleAskerRole.TEMPLATE);

    const posts = async () =>
      (await ana.texts()).filter((t) => t.senderInboxId === agent.inboxId && t.text.includes(DAILY)).length;
    expect(await posts()).toBe(0);

    // The old minute's job, due now (the stand-in): it finds the item waiting for another occurrence and fires nothing.
    const oldJob = await stack.rows<{ id: string }>(
      `update schedule_timers.job set start_after = now()
        where data->>'itemId' = $1 and (data->>'at')::bigint = $2 and state = 'created' returning id`,
      [daily!.id, oldAt.getTime()],
    );
    expect(oldJob).toHaveLength(1);
    const oldDone = waitFor(
      "the old minute's job to run",
      async () => {
        const [job] = await stack.rows<{ state: string }>(`select state from schedule_timers.job where id = $1`, [
          oldJob[0]!.id,
        ]);
        return job?.state === "completed";
      },
      30_000,
      200,
    );
    await oldDone;
    expect(stack.logs.some((l) => l.includes("schedule firing dropped") && l.includes(daily!.id))).toBe(true);
    expect(await posts()).toBe(0);
    // The new minute's job, as the move set it for the timers, then due now (the stand-in, as for the old one; that
    // a job runs at its minute schedules-minutes.system.test.ts waits for): Ana's app reads the agent's turn once.
    const heard = ana.heard(agent.inboxId, undefined, /Post the day's list\./, 120_000);
    // Awaited below; until then a failure of its own is not one unhandled.
    heard.catch(() => undefined);
    const newJob = await stack.rows<{ id: string }>(
      `update schedule_timers.job set start_after = now()
        where data->>'itemId' = $1 and (data->>'at')::bigint = $2 and state = 'created'
          and start_after = to_timestamp($2::bigint / 1000.0) returning id`,
      [daily!.id, newAt.getTime()],
    );
    expect(newJob).toHaveLength(1);
    await heard;
    await waitFor(
      "the claims service to move the item on",
      async () => {
        const [row] = await stack.rows<{ last_firing_id: string | null }>(
          `select last_firing_id from schedule_items where id = $1`,
          [daily!.id],
        );
        return row?.last_firing_id === firingIdOf(daily!.id, newAt);
      },
      30_000,
      200,
    );
    // Tomorrow at the moved minute, not the template's 23:59.
    const [after] = (await schedules.client.listSchedules({ instanceId: agent.id }, owner())).items.filter(
      (i) => i.id === daily!.id,
    );
    expect(instant(after!.nextAt).getTime() - newAt.getTime()).toBeGreaterThanOrEqual(23 * 3_600_000);
    expect(local(instant(after!.nextAt), false)).toBe(local(newAt, false));
    // A second post would have gone before the answer; a moment more for it to reach Ana.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await posts()).toBe(1);
  });
});
