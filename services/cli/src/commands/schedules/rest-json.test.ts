// `pool schedules` reads the listing the gateway really writes: each item
// made by the gateway's own writer (`scheduleItemToJson`,
// `@convos-pool/gateway/rest-json`) from a ScheduleItem as the claims service
// answers it, served to the CLI's real command line through a stand-in fetch;
// what it prints for a person is held here, column by column.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ScheduleAskerRole,
  ScheduleItemSchema,
  ScheduleKind,
  SchedulePause,
} from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import { scheduleItemToJson } from "@convos-pool/gateway/rest-json";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCAL_POOL_ID, signatureDomain } from "@convos-pool/kit/signing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { run, type Io } from "../../main.js";

const INSTANCE_ID = "inst_Q2w3E4r5T6y7U8i9";
let dir: string;
let out: string[];
let asked: string[];
let moved: unknown[];

const items = [
  create(ScheduleItemSchema, {
    id: "sch_0123456789abcdef01234567",
    instanceId: INSTANCE_ID,
    conversationId: "c1",
    askedByInboxId: "b".repeat(64),
    askedByRole: ScheduleAskerRole.MEMBER,
    kind: ScheduleKind.REMINDER,
    text: "book the table",
    startsAt: timestampFromMs(Date.parse("2026-12-04T17:00:00Z")),
    timeZone: "Europe/Paris",
    nextAt: timestampFromMs(Date.parse("2026-12-04T17:00:00Z")),
  }),
  create(ScheduleItemSchema, {
    id: "sch_89abcdef0123456789abcdef",
    instanceId: INSTANCE_ID,
    conversationId: "c1",
    askedByInboxId: "a".repeat(64),
    askedByRole: ScheduleAskerRole.OWNER,
    kind: ScheduleKind.ROUTINE,
    text: "post the week's plan",
    startsAt: timestampFromMs(Date.parse("2026-12-07T08:00:00Z")),
    rrule: "FREQ=WEEKLY;BYDAY=MO",
    timeZone: "Europe/Paris",
    nextAt: timestampFromMs(Date.parse("2026-12-07T08:00:00Z")),
    paused: true,
    pause: SchedulePause.TRANSFERRED,
  }),
  create(ScheduleItemSchema, {
    id: "sch_fedcba9876543210fedcba98",
    instanceId: INSTANCE_ID,
    conversationId: "c1",
    askedByInboxId: "c".repeat(64),
    askedByRole: ScheduleAskerRole.TEMPLATE,
    kind: ScheduleKind.ROUTINE,
    text: "the week's plan",
    startsAt: timestampFromMs(Date.parse("2026-12-07T08:00:00Z")),
    rrule: "FREQ=WEEKLY;BYDAY=MO",
    timeZone: "Europe/Paris",
    nextAt: timestampFromMs(Date.parse("2026-12-14T08:00:00Z")),
  }),
];

function io(): Io {
  return {
    env: { POOL_URL: "http://gw.test:9999" },
    cwd: dir,
    stdout: (t) => out.push(t),
    stderr: (t) => out.push(`stderr: ${t}`),
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      if (url.pathname === "/api/pool/signing-domain")
        return Response.json({ pool_id: LOCAL_POOL_ID, ...signatureDomain(LOCAL_POOL_ID) });
      asked.push(`${init?.method ?? "GET"} ${url.pathname}${url.search}`);
      if (url.pathname === "/api/pool/sessions")
        return Response.json({ token: "a-session", expires_at: new Date(Date.now() + 3_600_000).toISOString() });
      if (url.pathname === `/api/pool/agents/${INSTANCE_ID}/schedules/move`) {
        moved.push(JSON.parse(init?.body as string));
        return Response.json(scheduleItemToJson(items[0]!));
      }
      if (url.pathname === `/api/pool/agents/${INSTANCE_ID}/schedules`)
        return Response.json({ items: items.map(scheduleItemToJson) });
      return Response.json({ error: { type: "not_found", message: url.pathname } }, { status: 404 });
    },
  };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-cli-schedules-"));
  out = [];
  asked = [];
  moved = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("prints the gateway's listing as a table of what, kind, when next, how often, zone, who asked (a template's routine the template) and why paused", async () => {
  expect(await run(["keygen"], io())).toBe(0);
  out = [];
  const code = await run(["schedules", INSTANCE_ID, "--conversation", "c1"], io());
  expect({ code, out }).toMatchObject({ code: 0 });
  expect(asked.at(-1)).toBe(`GET /api/pool/agents/${INSTANCE_ID}/schedules?conversation_id=c1`);
  const [head, first, second, third] = out.join("").trimEnd().split("\n");
  expect(head).toMatch(/^TEXT +KIND +NEXT +RRULE +TIME ZONE +ASKED BY ROLE +PAUSE +CONVERSATION ID +ID$/);
  expect(first).toMatch(
    /^book the table +reminder +2026-12-04 17:00 UTC +Europe\/Paris +member +c1 +sch_0123456789abcdef01234567$/,
  );
  expect(second).toMatch(
    /^post the week's plan +routine +2026-12-07 08:00 UTC +FREQ=WEEKLY;BYDAY=MO +Europe\/Paris +owner +transferred +c1 /,
  );
  // A template's routine (the agent asked for it itself) is shown as the template's, not a member's.
  expect(third).toMatch(
    /^the week's plan +routine +2026-12-14 08:00 UTC +FREQ=WEEKLY;BYDAY=MO +Europe\/Paris +template +c1 /,
  );
});

it("moves one item by POST …/schedules/move with its id, the time and the day, and prints the item as it is now", async () => {
  expect(await run(["keygen"], io())).toBe(0);
  out = [];
  const code = await run(
    ["schedules", "move", INSTANCE_ID, "sch_0123456789abcdef01234567", "2026-12-04", "18:30"],
    io(),
  );
  expect({ code, out }).toMatchObject({ code: 0 });
  expect(asked.at(-1)).toBe(`POST /api/pool/agents/${INSTANCE_ID}/schedules/move`);
  expect(moved).toEqual([{ id: "sch_0123456789abcdef01234567", time: "18:30", date: "2026-12-04" }]);
  expect(out.join("")).toMatch(/book the table/);
});
