// A template's routine kept on the real stack (docs/templates.md,
// "Routines"): the template declares "every Monday at 9:00: post the week's
// plan"; Saul (a real Convos CLI serving the conversation) owns its agent,
// Ana joined by the invite as the Convos apps do. Once Saul sets the
// conversation's zone, the agent asks the claims service for the routine on
// its own behalf, in that zone, and says so in the conversation; Saul may
// pause, resume and move it through ScheduleService (as the web page and `pool
// schedules` call it, through the gateway's identity header), Ana may not
// cancel or move it. Real: PostgreSQL, the XMTP node, the instance host, the claims
// service with its pg-boss timers, the template and keys services, the
// Convos CLI. The routine is not fired here: schedules-e2e fires an item on
// this stack, and firing-run.test.ts a routine's turn.
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

describe("a template's routine on the real stack", () => {
  it("is kept on the agent's own behalf in the zone its owner sets; the owner pauses, resumes and moves it, a member cannot cancel or move it", {
    timeout: 90_000,
  }, async () => {
    const agent = people.agent;
    const asked = await saulCli.send("Planner, time zone Europe/Paris");
    expect(await said(saulCli, agent, asked, /^Kept from my template/)).toBe(
      "Kept from my template (Europe/Paris): The week's plan: every Monday at 9:00. The owner may pause, move or stop each one.",
    );
    const owner = { headers: callerHeaders(people.owner.inboxId) };
    const { items } = await schedules.client.listSchedules({ instanceId: agent.id }, owner);
    expect(items).toHaveLength(1);
    const [item] = items;
    expect(item).toMatchObject({
      conversationId: stack.ready.conversationId,
      askedByInboxId: agent.inboxId,
      // Judged a member, shown as its template's.
      askedByRole: ScheduleAskerRole.TEMPLATE,
      kind: ScheduleKind.ROUTINE,
      text: "Post the week's plan.",
      rrule: "FREQ=WEEKLY;BYDAY=MO",
      timeZone: "Europe/Paris",
    });
    // Its next occurrence: a Monday, 9:00 in Paris.
    const next = new Date(Number(item!.nextAt!.seconds) * 1000);
    const paris = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/Paris",
      weekday: "long",
      hour: "2-digit",
      minute: "2-digit",
    }).format(next);
    expect(paris).toBe("Monday 09:00");

    // Ana, a member, did not ask for it: she may not cancel it.
    const member = { headers: callerHeaders(ana.inboxId) };
    const refused = await schedules.client.cancelSchedule({ instanceId: agent.id, id: item!.id }, member).then(
      () => undefined,
      (err: unknown) => ConnectError.from(err),
    );
    expect(refused?.code).toBeOneOf([Code.PermissionDenied, Code.NotFound]);

    const paused = await schedules.client.pauseSchedule({ instanceId: agent.id, id: item!.id }, owner);
    expect(paused.item?.paused).toBe(true);
    const resumed = await schedules.client.resumeSchedule({ instanceId: agent.id, id: item!.id }, owner);
    expect(resumed.item?.paused).toBe(false);
    expect((await schedules.client.listSchedules({ instanceId: agent.id }, owner)).items).toHaveLength(1);

    // Saul moves it to 8:30 in this conversation: still Mondays, in Paris; Ana may not move it.
    const notHers = await schedules.client
      .moveSchedule({ instanceId: agent.id, id: item!.id, time: "08:30" }, member)
      .then(
        () => undefined,
        (err: unknown) => ConnectError.from(err),
      );
    expect(notHers?.code).toBe(Code.PermissionDenied);
    const moved = await schedules.client.moveSchedule({ instanceId: agent.id, id: item!.id, time: "08:30" }, owner);
    expect(moved.item).toMatchObject({ id: item!.id, askedByRole: ScheduleAskerRole.TEMPLATE });
    const at = new Date(Number(moved.item!.nextAt!.seconds) * 1000);
    const local = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/Paris",
      weekday: "long",
      hour: "2-digit",
      minute: "2-digit",
    }).format(at);
    expect(local).toBe("Monday 08:30");
  });
});
