// Schedules on real PostgreSQL: ScheduleService and HostScheduleService
// served by the kit's real server with the claims service's access policy
// (CLAIMS_ACCESS), called over the wire with the real credentials of two
// instance hosts and of the gateway (a person's inbox in its header); the
// timers are real pg-boss jobs in the test database (one moved item's job is
// made due now, having been seen set at its minute). The agents' hosts are a
// STAND-IN (the ScheduleHosts interface): it records each firing per host and
// keeps the firing ids each agent has done, as an agent does (its state moves
// with it, so the record is per agent, not per host). Agents' rows are
// written as the pool manager, a claim and a move write them.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ScheduleAskerRole, ScheduleKind, SchedulePause } from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import { HostScheduleService, ScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import {
  callerHeaders,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  hostCredentials,
  type RunningServer,
  serviceAuthInterceptor,
  startServer,
} from "@convos-pool/kit/server";
import type { Database } from "@convos-pool/kit/service";
import { createTestDatabase } from "@convos-pool/testing";
import { openDatabase } from "@convos-pool/kit/service";
import { markIdle, registerInstance } from "../pool/sql.js";
import { CLAIMS_ACCESS } from "../server.js";
import { entities } from "../db/entities.js";
import { migrations } from "../schema/migrations.js";
import type { ScheduleHosts } from "./hosts.js";
import { MAX_PENDING_PER_PERSON } from "./policy.js";
import { type RunningSchedules, startSchedules } from "./start.js";

const HOST = "http://host-a.test:7100";
const OTHER_HOST = "http://host-b.test:7100";
const CREDS = generateServiceCredentials(undefined, [HOST, OTHER_HOST]);
const OWNER = "a".repeat(64);
const MEMBER = "b".repeat(64);
const OTHER_MEMBER = "c".repeat(64);

/** The stand-in hosts: each firing delivered, by host; the firing ids each agent has done; who is in which conversation. */
class StandInHosts implements ScheduleHosts {
  readonly calls: { host: string; firingId: string }[] = [];
  readonly posted: string[] = [];
  readonly done = new Map<string, Set<string>>();
  /** Host URLs whose next call posts and then fails, as a host killed before it answers. */
  readonly crashAfterPosting = new Set<string>();
  readonly down = new Set<string>();
  members: Record<string, string[]> = { c1: [OWNER, MEMBER], c2: [OWNER, OTHER_MEMBER] };

  async fire(hostUrl: string, firing: Parameters<ScheduleHosts["fire"]>[1]) {
    this.calls.push({ host: hostUrl, firingId: firing.firingId });
    if (this.down.has(hostUrl)) throw new ConnectError("host down", Code.Unavailable);
    const done = this.done.get(firing.item.instanceId) ?? new Set<string>();
    this.done.set(firing.item.instanceId, done);
    if (done.has(firing.firingId)) return true;
    done.add(firing.firingId);
    this.posted.push(firing.firingId);
    if (this.crashAfterPosting.delete(hostUrl)) throw new ConnectError("killed before it answered", Code.Unavailable);
    return false;
  }
  async checkMember(_hostUrl: string, _instanceId: string, conversationId: string, inboxId: string) {
    return (this.members[conversationId] ?? []).includes(inboxId);
  }
  close() {}
}

let db: Database;
let server: RunningServer;
let schedules: RunningSchedules;
const hosts = new StandInHosts();
type HostClient = ReturnType<typeof createServiceClient<typeof HostScheduleService>>;
type PeopleClient = ReturnType<typeof createServiceClient<typeof ScheduleService>>;
let asHost: HostClient;
let asOtherHost: HostClient;
let asGateway: PeopleClient;

beforeAll(async () => {
  const url = await createTestDatabase("claims_schedules");
  db = await openDatabase({ name: "claims", url, entities, migrations, poolSize: 4 });
  const log = createLogger("schedules", { level: "silent" });
  schedules = await startSchedules(
    { em: db.em, databaseUrl: url, credentials: CREDS.claims, log },
    { hosts, pollingSeconds: 0.5, checkEveryMinute: false },
  );
  server = await startServer({
    name: "claims-schedules-test",
    host: "127.0.0.1",
    log,
    interceptors: [serviceAuthInterceptor(CREDS.claims.directory, CLAIMS_ACCESS)],
    routes: (router) => schedules.register(router),
  });
  asHost = createServiceClient(HostScheduleService, server.url, hostCredentials(CREDS, HOST));
  asOtherHost = createServiceClient(HostScheduleService, server.url, hostCredentials(CREDS, OTHER_HOST));
  asGateway = createServiceClient(ScheduleService, server.url, CREDS.gateway);
}, 60_000);

afterAll(async () => {
  for (const c of [asHost, asOtherHost, asGateway]) c?.close();
  await server?.close();
  await schedules?.stop();
  await db?.close();
});

const q = <T = Record<string, unknown>>(sql: string, p: unknown[] = []) => db.em.fork().execute<T[]>(sql, p);

/** An agent claimed by OWNER on HOST, at home in c1 and joined to c2. */
async function agent(): Promise<string> {
  const { id } = await registerInstance(db.em.fork(), HOST);
  await markIdle(db.em.fork(), id, `inbox-${id}`);
  await q(
    `update instances set state = 'claimed', owner_id = ?, template_id = 'tmpl_AAAAAAAAAAAAAAAA', claimed_at = now(),
       conversation_id = 'c1' where id = ?`,
    [OWNER, id],
  );
  await q(
    `insert into agent_conversations (instance_id, conversation_id, add_id, state, joined_at) values (?, 'c2', ?, 'joined', now())`,
    [id, `add-${id}`],
  );
  return id;
}

const reminder = (
  instanceId: string,
  over: { inbox?: string; conversation?: string; at?: number; rrule?: string } = {},
) => ({
  onBehalf: { instanceId, conversationId: over.conversation ?? "c1", inboxId: over.inbox ?? MEMBER },
  spec: {
    kind: ScheduleKind.REMINDER,
    text: "book the table",
    startsAt: timestampFromMs(over.at ?? Date.now() + 3_600_000),
    rrule: over.rrule ?? "",
    timeZone: "Europe/Paris",
  },
});

async function until(what: string, done: () => boolean | Promise<boolean>, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(err)}`);
  return err;
}

describe("a reminder's firing", () => {
  it("fires once, on the agent's host, with the firing id of its occurrence, and is done", async () => {
    const id = await agent();
    const at = Date.now() + 1_500;
    const { item } = await asHost.client.createSchedule(reminder(id, { at }));
    const firing = `${item!.id}@${new Date(Math.floor(at / 1000) * 1000).toISOString().replace(".000Z", "Z")}`;
    await until("the firing", () => hosts.posted.includes(firing));
    // A second look after the poll has come round again: still once.
    await schedules.timers.check();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(hosts.calls.filter((c) => c.firingId === firing)).toEqual([{ host: HOST, firingId: firing }]);
    const [row] = await q<{ next_at: Date | null; last_firing_id: string }>(
      `select next_at, last_firing_id from schedule_items where id = ?`,
      [item!.id],
    );
    expect(row).toEqual({ next_at: null, last_firing_id: firing });
  }, 60_000);

  it("posts once when the host is killed after posting and before answering: the retry is already done", async () => {
    const id = await agent();
    hosts.crashAfterPosting.add(HOST);
    const { item } = await asHost.client.createSchedule(reminder(id, { at: Date.now() + 1_000 }));
    const mine = () => hosts.calls.filter((c) => c.firingId.startsWith(item!.id));
    await until("the retry", () => mine().length >= 2);
    await until("the item moved on", async () => {
      const [r] = await q<{ next_at: Date | null }>(`select next_at from schedule_items where id = ?`, [item!.id]);
      return r?.next_at === null;
    });
    expect(hosts.posted.filter((f) => f.startsWith(item!.id))).toHaveLength(1);
    expect(new Set(mine().map((c) => c.firingId)).size).toBe(1);
  }, 60_000);

  it("fires an item whose timer was lost (a crash after its write) once the check sets it again", async () => {
    const id = await agent();
    const itemId = "sch_00000000000000000000c4a5";
    const at = Date.now() + 1_000;
    // The item as CreateSchedule writes it, and no timer: the process died before setting it.
    await q(
      `insert into schedule_items (id, instance_id, conversation_id, asked_by, asked_by_role, kind, text, starts_at, time_zone, next_at)
       values (?, ?, 'c1', ?, 'member', 'reminder', 'lost timer', ?, 'UTC', ?)`,
      [itemId, id, MEMBER, new Date(at), new Date(at)],
    );
    await new Promise((r) => setTimeout(r, 2_000));
    expect(hosts.calls.filter((c) => c.firingId.startsWith(itemId))).toEqual([]);
    expect(await schedules.timers.check()).toBeGreaterThan(0);
    await until("the firing", () => hosts.posted.some((f) => f.startsWith(itemId)));
    expect(hosts.calls.filter((c) => c.firingId.startsWith(itemId))).toHaveLength(1);
  }, 60_000);

  it("waits while its host is lost and fires once on the host the agent is moved to", async () => {
    const id = await agent();
    await q(`insert into instance_hosts (url) values (?), (?) on conflict do nothing`, [HOST, OTHER_HOST]);
    await q(`update instance_hosts set lost_at = now() where url = ?`, [HOST]);
    try {
      const { item } = await asHost.client.createSchedule(reminder(id, { at: Date.now() + 1_000 }));
      await new Promise((r) => setTimeout(r, 2_500));
      expect(hosts.calls.filter((c) => c.firingId.startsWith(item!.id))).toEqual([]);
      // The host mover's last step: the agent runs on the other host.
      await q(`update instances set host_url = ?, moving_to = null where id = ?`, [OTHER_HOST, id]);
      await until("the firing on the new host", () => hosts.posted.some((f) => f.startsWith(item!.id)), 45_000);
      expect(hosts.calls.filter((c) => c.firingId.startsWith(item!.id)).map((c) => c.host)).toEqual([OTHER_HOST]);
    } finally {
      await q(`update instance_hosts set lost_at = null where url = ?`, [HOST]);
    }
  }, 90_000);
});

describe("who sees and changes what", () => {
  it("shows a member only their conversation's items; another conversation is not found; the owner sees all", async () => {
    const id = await agent();
    await asHost.client.createSchedule(reminder(id, { conversation: "c1", inbox: MEMBER }));
    await asHost.client.createSchedule(reminder(id, { conversation: "c2", inbox: OTHER_MEMBER }));
    const member = { headers: callerHeaders(MEMBER) };
    const mine = await asGateway.client.listSchedules({ instanceId: id, conversationId: "c1" }, member);
    expect(mine.items.map((i) => i.conversationId)).toEqual(["c1"]);
    const theirs = await refusal(asGateway.client.listSchedules({ instanceId: id, conversationId: "c2" }, member));
    expect(theirs.code).toBe(Code.NotFound);
    const all = await asGateway.client.listSchedules(
      { instanceId: id, conversationId: "" },
      { headers: callerHeaders(OWNER) },
    );
    expect(all.items.map((i) => i.conversationId).sort()).toEqual(["c1", "c2"]);
    // Nor may the member cancel the other conversation's item by its id.
    const c2 = all.items.find((i) => i.conversationId === "c2")!;
    const cancel = await refusal(asGateway.client.cancelSchedule({ instanceId: id, id: c2.id }, member));
    expect(cancel.code).toBe(Code.NotFound);
  }, 30_000);

  it("pauses every item at a transfer: the old owner cannot resume even their own, the new owner can", async () => {
    const id = await agent();
    const { item } = await asHost.client.createSchedule(reminder(id, { inbox: OWNER, rrule: "FREQ=WEEKLY" }));
    expect(item?.askedByRole).toBe(ScheduleAskerRole.OWNER);
    await q(`update instances set owner_id = ? where id = ?`, [MEMBER, id]);
    const [row] = await q<{ pause: string }>(`select pause from schedule_items where id = ?`, [item!.id]);
    expect(row?.pause).toBe("transferred");
    // The old owner is a member of c1 now, and the item is theirs; a transfer's pause waits for the new owner.
    const asOld = await refusal(
      asGateway.client.resumeSchedule({ instanceId: id, id: item!.id }, { headers: callerHeaders(OWNER) }),
    );
    expect(asOld.code).toBe(Code.PermissionDenied);
    const resumed = await asGateway.client.resumeSchedule(
      { instanceId: id, id: item!.id },
      { headers: callerHeaders(MEMBER) },
    );
    expect(resumed.item?.paused).toBe(false);
    expect(resumed.item?.pause).toBe(SchedulePause.UNSPECIFIED);
  }, 30_000);

  it("pauses every item still to come at the agent's end, one its asker paused among them, and leaves done ones alone", async () => {
    const id = await agent();
    const { item: weekly } = await asHost.client.createSchedule(reminder(id, { rrule: "FREQ=WEEKLY" }));
    const { item: paused } = await asHost.client.createSchedule(reminder(id));
    await asHost.client.pauseSchedule({
      onBehalf: { instanceId: id, conversationId: "c1", inboxId: MEMBER },
      id: paused!.id,
    });
    const { item: done } = await asHost.client.createSchedule(reminder(id));
    await q(`update schedule_items set next_at = null where id = ?`, [done!.id]);
    // As its owner's removal writes it (claim/sql.ts): the owner stays on the row, the state ends.
    await q(`update instances set state = 'dead', end_reason = 'removed by its owner' where id = ?`, [id]);
    const rows = await q<{ id: string; pause: string | null }>(
      `select id, pause from schedule_items where instance_id = ? order by id`,
      [id],
    );
    const pauseOf = Object.fromEntries(rows.map((r) => [r.id, r.pause]));
    expect(pauseOf).toEqual({ [weekly!.id]: "released", [paused!.id]: "released", [done!.id]: null });
  }, 30_000);

  it("refuses a host the agent is not placed on, and the gateway on the hosts' service", async () => {
    const id = await agent();
    expect((await refusal(asOtherHost.client.createSchedule(reminder(id)))).code).toBe(Code.PermissionDenied);
    const gatewayOnHosts = createServiceClient(HostScheduleService, server.url, CREDS.gateway);
    try {
      expect((await refusal(gatewayOnHosts.client.createSchedule(reminder(id)))).code).toBe(Code.PermissionDenied);
    } finally {
      gatewayOnHosts.close();
    }
  }, 30_000);
});

/** The wall clock of an instant in Paris: its "YYYY-MM-DD" and "HH:MM". */
const inParis = (at: number) => ({
  date: new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris" }).format(at),
  time: new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/Paris",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(at),
});

describe("moving an item", () => {
  it("fires once at the new time and not at the old: the old time's job fires nothing", async () => {
    const id = await agent();
    const old = Date.now() + 1_500;
    const { item } = await asHost.client.createSchedule(reminder(id, { at: old }));
    // The next whole minute at least 5 s away: after the old time's job has come and gone.
    const minute = Math.ceil((Date.now() + 5_000) / 60_000) * 60_000;
    const owner = { headers: callerHeaders(OWNER) };
    const moved = await asGateway.client.moveSchedule({ instanceId: id, id: item!.id, ...inParis(minute) }, owner);
    expect(moved.item?.nextAt && Number(moved.item.nextAt.seconds) * 1000).toBe(minute);
    const mine = () => hosts.calls.filter((c) => c.firingId.startsWith(item!.id));
    await new Promise((r) => setTimeout(r, Math.max(0, old + 2_500 - Date.now())));
    expect(mine()).toEqual([]);
    // The new time's job is set at that minute, then made due now rather than waited for (that a job runs at its
    // minute is this file's first test's, and schedules-minutes.system.test.ts's on real processes).
    const due = await q(
      `update schedule_timers.job set start_after = now()
        where data->>'itemId' = ? and state = 'created' and start_after = to_timestamp(? / 1000.0) returning id`,
      [item!.id, minute],
    );
    expect(due).toHaveLength(1);
    const firing = `${item!.id}@${new Date(minute).toISOString().replace(".000Z", "Z")}`;
    await until("the firing at the new time", () => hosts.posted.includes(firing), 30_000);
    await schedules.timers.check();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(mine()).toEqual([{ host: HOST, firingId: firing }]);
  }, 60_000);

  it("lists a routine the agent asked for itself as its template's, to the owner and to the agent's host", async () => {
    const id = await agent();
    const own = randomBytes(32).toString("hex");
    await q(`update instances set inbox_id = ? where id = ?`, [own, id]);
    await asHost.client.createSchedule(reminder(id, { inbox: own, rrule: "FREQ=WEEKLY" }));
    const owner = { headers: callerHeaders(OWNER) };
    const listed = await asGateway.client.listSchedules({ instanceId: id, conversationId: "" }, owner);
    expect(listed.items.map((i) => i.askedByRole)).toEqual([ScheduleAskerRole.TEMPLATE]);
    const onBehalf = { instanceId: id, conversationId: "c1", inboxId: MEMBER };
    const hosted = await asHost.client.listSchedules({ onBehalf });
    expect(hosted.items.map((i) => i.askedByRole)).toEqual([ScheduleAskerRole.TEMPLATE]);
  }, 30_000);

  it("is the owner's alone: a member who asked for the item is refused, and it stays where it was", async () => {
    const id = await agent();
    const at = Math.floor((Date.now() + 3_600_000) / 60_000) * 60_000;
    const { item } = await asHost.client.createSchedule(reminder(id, { at, rrule: "FREQ=WEEKLY" }));
    const member = { headers: callerHeaders(MEMBER) };
    const err = await refusal(asGateway.client.moveSchedule({ instanceId: id, id: item!.id, time: "07:00" }, member));
    expect(err.code).toBe(Code.PermissionDenied);
    const [row] = await q<{ next_at: Date }>(`select next_at from schedule_items where id = ?`, [item!.id]);
    expect(new Date(row!.next_at).getTime()).toBe(at);
  }, 30_000);

  it("names time for a one-time item moved into the past or not HH:MM, and finds no item of an unknown id", async () => {
    const id = await agent();
    const { item } = await asHost.client.createSchedule(reminder(id, { at: Date.now() + 3_600_000 }));
    const owner = { headers: callerHeaders(OWNER) };
    const past = await refusal(
      asGateway.client.moveSchedule({ instanceId: id, id: item!.id, ...inParis(Date.now() - 3_600_000) }, owner),
    );
    expect(fieldViolations(past).map((v) => v.field)).toEqual(["time"]);
    const garbled = await refusal(asGateway.client.moveSchedule({ instanceId: id, id: item!.id, time: "7pm" }, owner));
    expect(fieldViolations(garbled).map((v) => v.field)).toEqual(["time"]);
    const unknown = await refusal(
      asGateway.client.moveSchedule({ instanceId: id, id: "sch_000000000000000000000000", time: "07:00" }, owner),
    );
    expect(unknown.code).toBe(Code.NotFound);
  }, 30_000);
});

describe("bad input", () => {
  it("names each bad field at once: a past time, an unknown zone, a rule too often, a member's act", async () => {
    const id = await agent();
    const bad = reminder(id, { at: Date.now() - 3_600_000 });
    const err = await refusal(
      asHost.client.createSchedule({ ...bad, spec: { ...bad.spec, kind: ScheduleKind.ACT, timeZone: "Mars/Olympus" } }),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["spec.kind", "spec.time_zone", "spec.starts_at"]);
    const often = await refusal(asHost.client.createSchedule(reminder(id, { rrule: "FREQ=MINUTELY;INTERVAL=5" })));
    expect(fieldViolations(often).map((v) => v.field)).toEqual(["spec.rrule"]);
    const nowhere = await refusal(asHost.client.createSchedule(reminder(id, { conversation: "c9" })));
    expect(fieldViolations(nowhere).map((v) => v.field)).toEqual(["on_behalf.conversation_id"]);
  }, 30_000);

  it("names conversation_id for a member's listing without it, and id for a change of no item's id", async () => {
    const id = await agent();
    const member = { headers: callerHeaders(MEMBER) };
    const listing = await refusal(asGateway.client.listSchedules({ instanceId: id, conversationId: "" }, member));
    expect(fieldViolations(listing).map((v) => v.field)).toEqual(["conversation_id"]);
    const owner = { headers: callerHeaders(OWNER) };
    const pause = await refusal(asGateway.client.pauseSchedule({ instanceId: id, id: "not-an-item" }, owner));
    expect(fieldViolations(pause).map((v) => v.field)).toEqual(["id"]);
  }, 30_000);

  it(`names on_behalf.inbox_id past ${MAX_PENDING_PER_PERSON} items of one person in a conversation`, async () => {
    const id = await agent();
    for (let i = 0; i < MAX_PENDING_PER_PERSON; i++) await asHost.client.createSchedule(reminder(id));
    const err = await refusal(asHost.client.createSchedule(reminder(id)));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["on_behalf.inbox_id"]);
    await asHost.client.createSchedule(reminder(id, { inbox: OTHER_MEMBER, conversation: "c1" }));
  }, 30_000);
});
