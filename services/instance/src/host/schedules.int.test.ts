// InstanceScheduleService served by a real instance host (OneHost: the
// local XMTP node on the test PostgreSQL, the SDK creator who owns the
// agent and its conversation), called over gRPC under the claims service's
// credential as the claims service's timers call it. The claims service
// itself is not here (services/e2e's schedules test has it): the firing is
// the request it would send. What must hold: a dormant agent wakes for a
// firing and posts its reminder in its conversation once, however many
// times and however at once the firing is delivered; a member check reads
// the group; a caller that is not the claims service is refused.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  FireScheduleRequestSchema,
  InstanceScheduleService,
} from "@convos-pool/gen/convos/pool/v1/instance_schedule_service_pb.js";
import { ScheduleItemSchema, ScheduleKind } from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import { OneHost } from "@convos-pool/instance/testing";
import { createServiceClient, type ServiceClient } from "@convos-pool/kit/server";
import { waitFor } from "@convos-pool/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceCall } from "./host.js";

const ID = "inst-fire";
const one = new OneHost({ name: "instance-fire", host: { dormantAfterMs: 1_000 } });
let schedules: ServiceClient<typeof InstanceScheduleService>;
let home = "";

beforeAll(async () => {
  await one.start();
  ({ groupId: home } = await one.joined(ID, 0));
  schedules = createServiceClient(InstanceScheduleService, one.host.url, one.creds.claims);
}, 120_000);

afterAll(async () => {
  schedules?.close();
  await one.close();
}, 30_000);

const at = Date.parse("2027-01-01T08:00:00Z");
const firing = (text: string) =>
  create(FireScheduleRequestSchema, {
    firingId: `sch_00000000000000000000000a@2027-01-01T08:00:00Z`,
    occurrenceAt: timestampFromMs(at),
    item: create(ScheduleItemSchema, {
      id: "sch_00000000000000000000000a",
      instanceId: ID,
      conversationId: home,
      askedByInboxId: one.creator!.inboxId,
      kind: ScheduleKind.REMINDER,
      text,
    }),
  });
const said = async (text: string) => (await one.creator!.transcript(home)).filter((m) => m.text === text).length;

describe("a host's firings", () => {
  it("wakes a dormant agent and posts its reminder once, delivered three times, two of them at once", {
    timeout: 90_000,
  }, async () => {
    const agent = one.host.instances.get(ID)!;
    await waitFor("the agent dormant", async () => agent.state === InstanceState.DORMANT, 30_000, 100);
    const answers = await Promise.all([
      schedules.client.fireSchedule(firing("book the table"), instanceCall(ID)),
      schedules.client.fireSchedule(firing("book the table"), instanceCall(ID)),
    ]);
    expect(answers.map((a) => a.alreadyDone).sort()).toEqual([false, true]);
    const again = await schedules.client.fireSchedule(firing("book the table"), instanceCall(ID));
    expect(again.alreadyDone).toBe(true);
    await waitFor("the reminder seen", async () => (await said("Reminder: book the table")) >= 1, 30_000, 200);
    // A second post would have been sent before the answers: a little more time shows none came.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await said("Reminder: book the table")).toBe(1);
  });

  it("answers whether an inbox is a member of the agent's conversation", { timeout: 60_000 }, async () => {
    const member = (inboxId: string) =>
      schedules.client.checkMember({ conversationId: home, inboxId }, instanceCall(ID)).then((a) => a.member);
    expect(await member(one.creator!.inboxId)).toBe(true);
    expect(await member("b".repeat(64))).toBe(false);
  });

  it("refuses a caller that is not the claims service", { timeout: 30_000 }, async () => {
    const other = createServiceClient(InstanceScheduleService, one.host.url, one.creds["instance-host"]);
    try {
      const refused = await other.client
        .fireSchedule(firing("pay the rent"), instanceCall(ID))
        .catch((e: unknown) => ConnectError.from(e));
      expect(refused).toMatchObject({ code: Code.PermissionDenied });
    } finally {
      other.close();
    }
  });
});
