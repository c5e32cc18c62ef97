// A template's REST body read into content, as plain calls (no server): a
// user tool's kind, kept when given, left out when not (so the content
// hashes as the creator's client hashed it); its phone connections likewise;
// words and limits left to the kit's checks the templates service runs, and
// every fault of a body's shape kept, not only the first.
import { describe, expect, it } from "vitest";
import { Provisioning } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  contentToJson,
  jsonHash,
  patchToJson,
  toolKindName,
  validateContent,
  validatePatch,
  violationsOf,
} from "@convos-pool/kit/content";
import { RestError, Violations } from "../core/errors.js";
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

  it("that is no kind goes on as a value no kind is, which the templates service's check refuses naming the field", () => {
    const content = contentToJson(contentFromBody(body({ kind: "colour" })));
    expect(fieldsOf(() => validateContent(content))).toEqual(["content.tools[0].kind"]);
  });
});

const fieldsOf = (check: () => void) => violationsOf(check).map((v) => v.field);

describe("a template's body read as the templates service judges it", () => {
  it("goes on with a provisioning no value names as none, which the service refuses naming the field", () => {
    const content = contentFromBody(body({ provisioning: "borrowed" }));
    expect(content.tools[0]?.provisioning).toBe(Provisioning.UNSPECIFIED);
    expect(fieldsOf(() => validateContent(contentToJson(content)))).toEqual(["content.tools[0].provisioning"]);
  });

  it("reads a name or instructions left out as empty, for the service to name beside its other faults", () => {
    const content = contentFromBody(JsonObject.body({ tags: ["Not A Tag"] }, CONTENT_FIELDS));
    expect(fieldsOf(() => validateContent(contentToJson(content)))).toEqual([
      "content.agent_name",
      "content.instructions",
      "content.tags[0]",
    ]);
  });

  it("keeps every field of the wrong shape, each read as empty, instead of stopping at the first", () => {
    const check = new Violations();
    const content = contentFromBody(
      JsonObject.body({ agent_name: 5, instructions: "i", tags: "travel", base: { template_id: 1 } }, CONTENT_FIELDS),
      check,
    );
    expect(content.agentName).toBe("");
    expect(content.tags).toEqual([]);
    const e = (() => {
      try {
        check.done();
      } catch (err) {
        return err as RestError;
      }
      throw new Error("not thrown");
    })();
    expect(e.violations.map((v) => v.field)).toEqual(["agent_name", "tags", "base.template_id"]);
    const patch = new Violations();
    patchFromBody(JsonObject.body({ description: 3, runtime: "pool", tools: {} }, CONTENT_FIELDS), patch);
    expect(patch.names("description") && patch.names("runtime") && patch.names("tools")).toBe(true);
  });

  it("gives a patch's trust level no level names as a value no level is, which the service refuses", () => {
    const patch = patchFromBody(JsonObject.body({ max_trust_level: "L9" }, CONTENT_FIELDS));
    expect(fieldsOf(() => validatePatch(patchToJson(patch)))).toEqual(["patch.max_trust_level"]);
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
