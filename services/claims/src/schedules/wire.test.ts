// Schedules' items as the contract carries them (wire.ts): the generated
// messages of schedule.proto, real; no service.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ScheduleAskerRole,
  ScheduleKind,
  SchedulePause,
  ScheduleSpecSchema,
} from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import { describe, expect, it } from "vitest";
import { askOf, itemMessage } from "./wire.js";

describe("an item on the wire", () => {
  it("carries each field, its absent next occurrence as absent and its pause by name", () => {
    const m = itemMessage({
      id: "sch_0123456789abcdef01234567",
      instanceId: "inst_AAAAAAAAAAAAAAAA",
      conversationId: "c1",
      askedBy: "a".repeat(64),
      askedByRole: "owner",
      kind: "act",
      text: "pay Ana",
      startsAt: 1_000,
      rrule: "FREQ=MONTHLY",
      timeZone: "Europe/Paris",
      nextAt: null,
      pause: "transferred",
      payload: new Uint8Array([1, 2]),
      createdAt: 500,
    });
    expect(m).toMatchObject({
      askedByRole: ScheduleAskerRole.OWNER,
      kind: ScheduleKind.ACT,
      paused: true,
      pause: SchedulePause.TRANSFERRED,
      payload: new Uint8Array([1, 2]),
    });
    expect(m.nextAt).toBeUndefined();
    expect(m.startsAt?.seconds).toBe(1n);
  });

  it("names a routine the agent asked for itself its template's, and a person's as judged when it was made", () => {
    const agent = "c".repeat(64);
    const item = {
      id: "sch_0123456789abcdef01234567",
      instanceId: "inst_AAAAAAAAAAAAAAAA",
      conversationId: "c1",
      askedBy: agent,
      askedByRole: "member" as const,
      kind: "routine" as const,
      text: "post the week's plan",
      startsAt: 1_000,
      rrule: "FREQ=WEEKLY",
      timeZone: "Europe/Paris",
      nextAt: 2_000,
      pause: null,
      payload: new Uint8Array(),
      createdAt: 500,
    };
    expect(itemMessage(item, agent).askedByRole).toBe(ScheduleAskerRole.TEMPLATE);
    expect(itemMessage({ ...item, askedBy: "b".repeat(64) }, agent).askedByRole).toBe(ScheduleAskerRole.MEMBER);
    expect(itemMessage(item, "").askedByRole).toBe(ScheduleAskerRole.MEMBER);
  });

  it("reads a spec's unspecified or unknown kind and its missing start as left out", () => {
    expect(askOf(undefined)).toMatchObject({ kind: undefined, startsAt: undefined, text: "" });
    expect(askOf(create(ScheduleSpecSchema, { kind: 99 as ScheduleKind })).kind).toBeUndefined();
    expect(
      askOf(create(ScheduleSpecSchema, { kind: ScheduleKind.ROUTINE, startsAt: timestampFromMs(1_234_000) })),
    ).toMatchObject({ kind: "routine", startsAt: 1_234_000 });
  });
});
