// The routines a template declares (routines.ts), and how they travel in
// content: pure, nothing stands in. The rules are read by the kit's own time
// code (time/rule.ts), the same that holds a conversation's schedules.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TemplatePatchSchema } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { fieldViolations } from "./errors.js";
import {
  ROUTINE_LIMITS,
  routineStart,
  routineSummary,
  routineViolations,
  ruleProblem,
  type RoutineJson,
} from "./routines.js";
import { applyPatch, contentFromJson, contentToJson, jsonHash, patchToJson, validateContent } from "./template.js";
import { ContentJsonError, fillContentJson, fillPatchJson } from "./template-json.js";
import { resolveContent } from "./template-resolve.js";
import { sampleContent } from "../../test/fixtures.js";

const plan: RoutineJson = {
  id: "weekly-plan",
  name: "The week's plan",
  rrule: "FREQ=WEEKLY;BYDAY=MO",
  time: "09:00",
  instruction: "Post the week's plan.",
};

const fields = (routines: RoutineJson[]) => routineViolations("content.routines", routines).map((v) => v.field);

describe("a template's routines", () => {
  it("a weekly routine at a local time is kept, and says when in the store's words", () => {
    expect(routineViolations("content.routines", [plan])).toEqual([]);
    expect(routineSummary(plan)).toBe("The week's plan: every Monday at 9:00, in the conversation's time zone");
  });

  it("names every fault of every routine at once, each by its field", () => {
    const bad = { id: "Weekly Plan", name: "", rrule: "every monday", time: "9am", instruction: " " };
    const long = { ...plan, id: "weekly-plan", instruction: "x".repeat(ROUTINE_LIMITS.instruction + 1) };
    expect(fields([plan, bad, long])).toEqual([
      "content.routines[1].id",
      "content.routines[1].name",
      "content.routines[1].rrule",
      "content.routines[1].time",
      "content.routines[1].instruction",
      "content.routines[2].id",
      "content.routines[2].instruction",
    ]);
  });

  it("refuses more routines than the limit, naming the list", () => {
    const many = Array.from({ length: ROUTINE_LIMITS.routines + 1 }, (_, i) => ({ ...plan, id: `r${i}` }));
    expect(fields(many)).toEqual(["content.routines"]);
  });

  it("refuses a rule more often than every 15 minutes, as a conversation's schedules do", () => {
    expect(ruleProblem("FREQ=MINUTELY;INTERVAL=10", "09:00")).toBe("comes every 10 minutes; at most every 15 minutes");
    expect(ruleProblem("FREQ=MINUTELY;INTERVAL=15", "09:00")).toBeUndefined();
    expect(ruleProblem("FREQ=HOURLY", "09:00")).toBeUndefined();
  });

  it("refuses the parts a template cannot set: an end, a start, a zone, a time of day", () => {
    for (const part of ["UNTIL=20270101T000000Z", "COUNT=3", "BYHOUR=9", "BYMINUTE=30"])
      expect(ruleProblem(`FREQ=WEEKLY;BYDAY=MO;${part}`, "09:00"), part).toMatch(/leave \w+ out/);
    expect(ruleProblem("RRULE:FREQ=DAILY", "09:00")).toMatch(/without "RRULE:"/);
  });

  it("refuses a rule whose days would be its start's, since a template has no start", () => {
    expect(ruleProblem("FREQ=WEEKLY", "09:00")).toMatch(/must name its days/);
    expect(ruleProblem("FREQ=MONTHLY", "09:00")).toMatch(/must name its days/);
    expect(ruleProblem("FREQ=MONTHLY;BYMONTHDAY=1", "09:00")).toBeUndefined();
    expect(ruleProblem("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "09:00")).toBe("has no occurrence");
  });
});

describe("where a routine starts in a conversation's zone", () => {
  // Monday 30 November 2026, 07:00 in Paris (06:00 UTC).
  const now = Date.UTC(2026, 10, 30, 6, 0);

  it("starts today at its local time when that is still to come, in the conversation's zone", () => {
    expect(new Date(routineStart("09:00", "Europe/Paris", now)!).toISOString()).toBe("2026-11-30T08:00:00.000Z");
    expect(new Date(routineStart("09:00", "America/New_York", now)!).toISOString()).toBe("2026-11-30T14:00:00.000Z");
  });

  it("starts tomorrow when today's time is gone or too close, never firing at once", () => {
    expect(new Date(routineStart("06:30", "Europe/Paris", now)!).toISOString()).toBe("2026-12-01T05:30:00.000Z");
    expect(new Date(routineStart("07:01", "Europe/Paris", now)!).toISOString()).toBe("2026-12-01T06:01:00.000Z");
    expect(routineStart("7am", "Europe/Paris", now)).toBeUndefined();
  });
});

describe("routines in a template's content", () => {
  const withRoutines = { ...sampleContent(), routines: [plan] };

  it("travel through the proto and back unchanged, and change the content's hash", () => {
    expect(contentToJson(contentFromJson(withRoutines)).routines).toEqual([plan]);
    expect(jsonHash(contentToJson(contentFromJson(withRoutines)))).not.toBe(jsonHash(sampleContent()));
  });

  it("are left out when there are none, so content without them hashes as before", () => {
    expect(contentToJson(contentFromJson({ ...sampleContent(), routines: [] }))).not.toHaveProperty("routines");
    expect(fillContentJson({ agent_name: "A", instructions: "i", routines: [] })).not.toHaveProperty("routines");
  });

  it("are checked with the rest of the content, every fault named at once", () => {
    const bad = { ...sampleContent(), agent_name: "", routines: [{ ...plan, time: "25:00" }] };
    let err: unknown;
    try {
      validateContent(bad);
    } catch (e) {
      err = e;
    }
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["content.agent_name", "content.routines[0].time"]);
  });

  it("refuse a field a routine does not have, in a creator's file", () => {
    const run = () => fillContentJson({ agent_name: "A", instructions: "i", routines: [{ ...plan, zone: "UTC" }] });
    expect(run).toThrow(ContentJsonError);
    expect(run).toThrow(/routines\[0\]\.zone: unknown field/);
  });

  it("are replaced as a whole list by a patch, and `[]` removes them", () => {
    const proto = create(TemplatePatchSchema, { clearRoutines: true });
    expect(patchToJson(proto)).toEqual({ routines: [] });
    expect(applyPatch(withRoutines, fillPatchJson({ routines: [] }))).not.toHaveProperty("routines");
    const moved = { ...plan, time: "10:00" };
    expect(applyPatch(withRoutines, fillPatchJson({ routines: [moved] })).routines).toEqual([moved]);
  });

  it("are the template's own in what its agents run on, not its base's", () => {
    const base = contentFromJson({ ...sampleContent(), routines: [{ ...plan, id: "from-base" }] });
    const own = contentFromJson({
      ...withRoutines,
      base: { template_id: "tmpl_0123456789abcdef", creator_id: "a".repeat(64) },
    });
    expect(resolveContent([own, base]).routines.map((r) => r.id)).toEqual(["weekly-plan"]);
  });
});
