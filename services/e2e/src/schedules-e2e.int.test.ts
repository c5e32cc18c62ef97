// A reminder kept and fired on the real stack: Saul (a real Convos CLI
// serving the conversation) owns the agent, Ana joined by the invite as the
// Convos apps do (an @xmtp/node-sdk client without the agent kind). Saul
// sets the conversation's zone and asks "remind us in 2 minutes to book the
// table"; the agent shows it back and the claims service keeps the item and
// its pg-boss timer. The agent goes dormant; the test then moves the
// timer's job to now in the claims database (its start_after, the one
// stand-in: the occurrence and its firing id stay those of "in 2 minutes",
// so the test does not wait two real minutes), the claims service's worker
// takes it and delivers FireSchedule to the host, the agent wakes and the
// reminder arrives once, as Ana reads it. Delivered again with the same
// firing id (as a timer that lost its answer would), it posts nothing more.
// Real: PostgreSQL, the XMTP node, the instance host, the claims service
// with its pg-boss timers, the template and keys services, the Convos CLI.
// The offline model is never asked: the pool's words answer a request of time.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  FireScheduleRequestSchema,
  InstanceScheduleService,
} from "@convos-pool/gen/convos/pool/v1/instance_schedule_service_pb.js";
import { ScheduleItemSchema, ScheduleKind } from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import { instanceCall } from "@convos-pool/instance";
import { createServiceClient, type ServiceClient } from "@convos-pool/kit/server";
import { waitFor } from "@convos-pool/testing";
import { said, type ConvosCli } from "@convos-pool/testing/convos-cli";
import type { Person } from "@convos-pool/convos/person";
import { PeopleStack } from "./people-stack.js";

const people = new PeopleStack({
  stack: {
    name: "schedules-e2e",
    conversationName: "Dinner",
    // Quiet for two seconds and it sleeps: the firing finds it dormant.
    host: { joinTimeoutMs: 15_000, dormantAfterMs: 2_000 },
    claims: { pool: { target: 1 } },
  },
  template: { agent_name: "Concierge", tools: [] },
  people: ["Ana"],
});
const stack = people.stack;
const REMINDER = "Reminder: book the table";
let saulCli: ConvosCli;
let ana: Person;
let hostCalls: ServiceClient<typeof InstanceScheduleService>;

interface ItemRow {
  id: string;
  conversation_id: string;
  asked_by: string;
  next_at: Date | null;
  last_firing_id: string | null;
}

beforeAll(async () => {
  ({ ownerCli: saulCli } = await people.start());
  ana = people.person("Ana");
  // As `npm start`: the host's agents keep time at the claims service (its HostScheduleService).
  await stack.host!.close();
  await stack.startHost({ schedulesUrl: stack.claims!.url });
  await waitFor("the agent back", () => people.agent.health().state === InstanceState.CLAIMED, 30_000);
  hostCalls = createServiceClient(InstanceScheduleService, stack.host!.url, stack.creds.claims);
}, 240_000);

afterAll(async () => {
  hostCalls?.close();
  await people.close();
}, 60_000);

/** How many times the agent posted the reminder, as Ana's app reads the conversation. */
const reminders = async () =>
  (await ana.texts()).filter((t) => t.senderInboxId === people.agent.inboxId && t.text === REMINDER).length;

describe("a reminder on the real stack", () => {
  it("is shown back, fires once on a dormant agent, and a second delivery of its firing posts nothing", {
    timeout: 90_000,
  }, async () => {
    const agent = people.agent;
    expect(
      await said(
        saulCli,
        agent,
        await saulCli.send("Concierge, time zone Europe/Paris"),
        /time zone is now Europe\/Paris/,
      ),
    ).toBe("This conversation's time zone is now Europe/Paris.");
    const shown = await said(
      saulCli,
      agent,
      await saulCli.send("Concierge, remind us in 2 minutes to book the table"),
      /^I'll remind you/,
    );
    expect(shown).toMatch(/^I'll remind you (today|tomorrow) at \d{1,2}:\d{2} \(Europe\/Paris\): book the table$/);
    const [item] = await stack.rows<ItemRow>(
      `select id, conversation_id, asked_by, next_at, last_firing_id from schedule_items where instance_id = $1`,
      [agent.id],
    );
    expect(item).toMatchObject({ conversation_id: stack.ready.conversationId, asked_by: people.owner.inboxId });
    const at = item!.next_at!.getTime();
    expect(at - Date.now()).toBeGreaterThan(60_000);
    expect(await reminders()).toBe(0);

    await waitFor("the agent dormant", async () => people.agent.state === InstanceState.DORMANT, 30_000, 100);
    // The timer's job, due now rather than in two minutes: the same job, the same occurrence.
    const moved = await stack.rows(
      `update schedule_timers.job set start_after = now() where data->>'itemId' = $1 and state = 'created' returning id`,
      [item!.id],
    );
    expect(moved).toHaveLength(1);
    const firingId = `${item!.id}@${new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z")}`;
    await waitFor(
      "the claims service to move the item on",
      async () => {
        const [row] = await stack.rows<ItemRow>(`select last_firing_id from schedule_items where id = $1`, [item!.id]);
        return row?.last_firing_id === firingId;
      },
      30_000,
      200,
    );
    await ana.heard(agent.inboxId, undefined, /^Reminder: book the table$/, 30_000);

    // The same firing delivered again, as a timer whose answer was lost: done before, nothing posted.
    const again = await hostCalls.client.fireSchedule(
      create(FireScheduleRequestSchema, {
        firingId,
        occurrenceAt: timestampFromMs(at),
        item: create(ScheduleItemSchema, {
          id: item!.id,
          instanceId: agent.id,
          conversationId: item!.conversation_id,
          askedByInboxId: item!.asked_by,
          kind: ScheduleKind.REMINDER,
          text: "book the table",
        }),
      }),
      instanceCall(agent.id),
    );
    expect(again.alreadyDone).toBe(true);
    // A second post would have gone before the answer; a moment more for it to reach Ana.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await reminders()).toBe(1);
  });
});
