// A template's REST body read into content, as plain calls (no server): a
// user tool's kind, kept when given, left out when not (so the content
// hashes as the creator's client hashed it); its phone connections likewise.
import { describe, expect, it } from "vitest";
import { contentToJson, jsonHash, toolKindName } from "@convos-pool/kit/content";
import { RestError } from "../core/errors.js";
import { JsonObject } from "../core/json.js";
import { CONTENT_FIELDS, contentFromBody, patchFromBody } from "./json.js";

const body = (tool: Record<string, unknown>) =>
  JsonObject.body(
    {
      agent_name: "A",
      instructions: "i",
      tools: [{ id: "budget", provisioning: "user", prompt: "How much?", ...tool }],
    },
    CONTENT_FIELDS,
  );

describe("a tool's kind in a REST body", () => {
  it("is read when given, and unspecified when absent or empty", () => {
    expect(toolKindName(contentFromBody(body({ kind: "number" })).tools[0]!.kind)).toBe("number");
    expect(toolKindName(contentFromBody(body({})).tools[0]!.kind)).toBeUndefined();
    expect(toolKindName(contentFromBody(body({ kind: "" })).tools[0]!.kind)).toBeUndefined();
  });

  it("that is no kind is refused naming the field", () => {
    try {
      contentFromBody(body({ kind: "colour" }));
      throw new Error("parsed");
    } catch (err) {
      expect(err).toBeInstanceOf(RestError);
      expect((err as RestError).field).toBe("tools[0].kind");
    }
  });
});

describe("connections in a REST body", () => {
  const withConnections = (connections: unknown) =>
    JsonObject.body({ agent_name: "A", instructions: "i", connections }, CONTENT_FIELDS);
  const calendar = { kind: "calendar", capabilities: ["read", "write_create"], reason: "to plan around your week" };

  it("are read as sent, and none or [] is content that hashes as if the field did not exist", () => {
    expect(contentToJson(contentFromBody(withConnections([calendar]))).connections).toEqual([calendar]);
    const none = JsonObject.body({ agent_name: "A", instructions: "i" }, CONTENT_FIELDS);
    expect(contentToJson(contentFromBody(withConnections([])))).not.toHaveProperty("connections");
    expect(jsonHash(contentToJson(contentFromBody(withConnections([]))))).toBe(
      jsonHash(contentToJson(contentFromBody(none))),
    );
  });

  it("leave their limits to the templates service, and refuse another shape naming the field", () => {
    // An unknown kind passes here: the templates service refuses it, naming `connections[0].kind`.
    expect(contentFromBody(withConnections([{ ...calendar, kind: "fitness" }])).connections[0]?.kind).toBe("fitness");
    for (const [bad, field] of [
      [[{ ...calendar, why: "x" }], "connections[0].why"],
      [[{ ...calendar, capabilities: "read" }], "connections[0].capabilities"],
      [[{ capabilities: ["read"], reason: "x" }], "connections[0].kind"],
      ["calendar", "connections"],
    ] as const) {
      try {
        contentFromBody(withConnections(bad));
        throw new Error("parsed");
      } catch (err) {
        expect(err).toBeInstanceOf(RestError);
        expect((err as RestError).field).toBe(field);
      }
    }
  });

  it("replace the list in a PATCH, and [] removes them", () => {
    const patch = (v: unknown) => patchFromBody(JsonObject.body({ connections: v }, CONTENT_FIELDS));
    expect(patch([calendar])).toMatchObject({ clearConnections: false, connections: [{ kind: "calendar" }] });
    expect(patch([])).toMatchObject({ clearConnections: true, connections: [] });
    expect(patchFromBody(JsonObject.body({ description: "d" }, CONTENT_FIELDS)).clearConnections).toBe(false);
  });
});

describe("routines in a REST body", () => {
  const plan = {
    id: "weekly-plan",
    name: "Plan",
    rrule: "FREQ=WEEKLY;BYDAY=MO",
    time: "09:00",
    instruction: "Post it.",
  };
  const withRoutines = (routines: unknown) =>
    JsonObject.body({ agent_name: "A", instructions: "i", routines }, CONTENT_FIELDS);

  it("are read as sent, a field a routine does not have refused by name, and [] removes them in a PATCH", () => {
    expect(contentToJson(contentFromBody(withRoutines([plan]))).routines).toEqual([plan]);
    expect(contentToJson(contentFromBody(withRoutines([])))).not.toHaveProperty("routines");
    try {
      contentFromBody(withRoutines([{ ...plan, zone: "UTC" }]));
      throw new Error("parsed");
    } catch (err) {
      expect(err).toBeInstanceOf(RestError);
      expect((err as RestError).field).toBe("routines[0].zone");
    }
    const patch = (v: unknown) => patchFromBody(JsonObject.body({ routines: v }, CONTENT_FIELDS));
    expect(patch([])).toMatchObject({ clearRoutines: true, routines: [] });
    expect(patch([plan])).toMatchObject({ clearRoutines: false, routines: [{ id: "weekly-plan", time: "09:00" }] });
  });
});
