// An agent's day of counts from its conversation to the lineage service, on
// the real stack (docs/signals.md): the local XMTP node on a throwaway
// PostgreSQL, an instance host with the offline model, a Convos conversation
// served by the real Convos CLI (the person), and the real lineage and
// templates services. The agent's claim reaches lineage as the claims
// service's relay hands it over (the feed's own call, with the agent's inbox).
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LineageEventSchema, LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { SignalCountsSchema, VersionSignalService } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { createServiceClient, type ServiceClient } from "@convos-pool/kit/server";
import { signVersionSignals } from "@convos-pool/kit/signing";
import { newIdentity } from "@convos-pool/kit/testing";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { createTestDatabase } from "@convos-pool/testing";
import { OneHost } from "@convos-pool/instance/testing";
import { personOf, type SignalsFile } from "../agent/state/signals.js";
import { readFile } from "node:fs/promises";

const ID = "inst_signalsE2e000001";
const OWNER = `${"0".repeat(63)}2`;
/** The pool hosts' person key (SIGNALS_PERSON_KEY): a person's pseudonym of the day is under it. */
const PERSON_KEY = new Uint8Array(32).fill(42);
const hostOptions: { signalsUrl?: string; signalsIntervalMs?: number; signalsPersonKey?: Uint8Array } = {
  signalsIntervalMs: 3_600_000,
  signalsPersonKey: PERSON_KEY,
};
const one = new OneHost({
  name: "instance-signals",
  host: hostOptions,
  content: { agent_name: "Dinner Planner", instructions: "You plan dinners." },
  conversations: { serve: ["--name", "Dinner plans", "--profile-name", "Saul"] },
});

let templates: RunningTemplateService | undefined;
let lineage: RunningLineageService | undefined;
let lineageDb: string;
let hostSc: ServiceClient<typeof VersionSignalService> | undefined;
let agentInbox: string;

async function stored(): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: lineageDb });
  await c.connect();
  try {
    return (await c.query(`select * from version_signals where instance_id = $1`, [ID])).rows;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("signals_e2e_templates"),
    credentials: one.creds.templates,
  });
  lineageDb = await createTestDatabase("signals_e2e_lineage");
  lineage = await startLineageService({
    databaseUrl: lineageDb,
    credentials: one.creds.lineage,
    templatesUrl: templates.url,
  });
  hostOptions.signalsUrl = lineage.url;
  await one.start();
  agentInbox = await one.joinedServed(ID, 0, { ownerId: OWNER });
  const config = one.host.instances.get(ID)!.configSnapshot!;
  const feed = createServiceClient(LineageEventService, lineage.url, one.creds.claims);
  try {
    await feed.client.recordLineageEvents({
      events: [
        create(LineageEventSchema, {
          sequence: 1n,
          at: timestampFromDate(new Date()),
          event: {
            case: "claimed",
            value: {
              instanceId: ID,
              templateId: config.templateId,
              ownerId: OWNER,
              conversationId: one.ready.conversationId,
              inboxId: agentInbox,
            },
          },
        }),
      ],
    });
  } finally {
    feed.close();
  }
  hostSc = createServiceClient(VersionSignalService, lineage.url, one.creds["instance-host"]);
}, 120_000);

afterAll(async () => {
  hostSc?.close();
  await one.close();
  await lineage?.close();
  await templates?.close();
}, 30_000);

describe("an agent's counts on their way to the lineage service", () => {
  it("reach it signed by the agent, with nothing of the conversation; a report signed by another key is refused", {
    timeout: 90_000,
  }, async () => {
    const cli = one.cli!;
    const from = await cli.send("remember that my diet is vegan");
    const answer = await cli.messageFrom(agentInbox, from);
    await cli.react(answer.id, "👍");
    await cli.messageFrom(agentInbox, await cli.send("what is my diet?"));
    await one.host.instances.get(ID)!.settled();
    // The 👍 is handled in its turn, before the next text's answer.
    await one.host.signals!.cycle();
    const rows = await stored();
    expect(rows).toHaveLength(1);
    const config = one.host.instances.get(ID)!.configSnapshot!;
    expect(rows[0]).toMatchObject({
      template_id: config.templateId,
      version: config.templateVersion,
      answers: 2,
      people: 1,
      thumbs_up: 1,
      thumbs_down: 0,
    });
    // Its day per person: the one who spoke, under their pseudonym of the day by the host's key, not their inbox.
    const release = { templateId: config.templateId, version: config.templateVersion };
    const pseudonym = personOf(PERSON_KEY, release, new Date().toISOString().slice(0, 10), one.ready.inboxId);
    expect(rows[0]?.persons).toEqual([
      { person: pseudonym, answers: 2, thumbsDown: 0, corrections: 0, stopRequests: 0, toolCallsFailed: 0 },
    ]);
    expect(JSON.stringify(rows[0]?.persons)).not.toContain(one.ready.inboxId);
    // Again later in the day: the same row, replaced.
    await cli.messageFrom(agentInbox, await cli.send("what is my diet?"));
    await one.host.instances.get(ID)!.settled();
    await one.host.signals!.cycle();
    expect((await stored()).map((r) => r.answers)).toEqual([3]);
    // Nothing of the conversation is in what went, nor in what the agent keeps.
    const kept = await readFile(join(one.dir, "host", "instances", ID, "signals.json"), "utf8");
    for (const s of [one.ready.inboxId, one.ready.conversationId, "vegan", "diet"]) {
      expect(kept).not.toContain(s);
      expect(JSON.stringify(rows)).not.toContain(s);
    }
    expect((JSON.parse(kept) as SignalsFile).current.counts.answers).toBe(3);

    // The host (or anyone holding its credential) signing in the agent's name, or raising a count: refused.
    const day = new Date().toISOString().slice(0, 10);
    const counts = { ...(JSON.parse(kept) as SignalsFile).current.counts, answers: 500 };
    const report = {
      inboxId: agentInbox,
      instanceId: ID,
      templateId: config.templateId,
      version: config.templateVersion,
      day,
      counts,
    };
    const intruder = newIdentity();
    const refused = await hostSc!.client
      .reportSignals({
        ...report,
        counts: create(SignalCountsSchema, counts),
        agentSignature: await signVersionSignals(intruder.account, report),
      })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e).code,
      );
    expect(refused).toBe(Code.PermissionDenied);
    expect((await stored()).map((r) => r.answers)).toEqual([3]);
  });
});
