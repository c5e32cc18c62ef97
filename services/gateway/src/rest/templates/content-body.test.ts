// A template's content and patch read from a REST body, as plain calls (no
// server): every field REST cannot read named at once with its path, and
// read as the RPC's zero in its place for the service's check of the rest.
import fc from "fast-check";
import { Provisioning } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { describe, expect, it } from "vitest";
import { CONTENT_FIELDS } from "@convos-pool/kit/content";
import { RestError, Violations } from "../core/errors.js";
import { JsonObject } from "../core/json.js";
import { contentFromBody, patchFromBody } from "./content-body.js";

/** The fields a read refuses, thrown at once (no `check`) or kept in one. */
function refused(read: () => unknown): string[] {
  try {
    read();
    return [];
  } catch (err) {
    if (!(err instanceof RestError)) throw err;
    return err.violations.map((v) => v.field);
  }
}

const tool = (over: Record<string, unknown>) => ({ id: "notes", provisioning: "user", prompt: "Where?", ...over });

describe("a template's content read from a REST body", () => {
  it("names every field it cannot read, each with its path, not the first alone", () => {
    const body = JsonObject.body(
      {
        agent_name: 9,
        tools: [tool({ provisioning: "maybe" }), 5, tool({ id: 3, kind: "colour" })],
        tags: ["ok", 7],
        connections: [{ kind: "calendar", capabilities: ["read", false] }],
      },
      CONTENT_FIELDS,
    );
    expect(refused(() => contentFromBody(body))).toEqual([
      "agent_name",
      "instructions",
      "tools[0].provisioning",
      "tools[1]",
      "tools[2].id",
      "tools[2].kind",
      "tags[1]",
      "connections[0].capabilities[1]",
    ]);
  });

  it("keeps what it cannot read as the RPC's zero in its place, for the service's check of the rest", () => {
    const check = new Violations();
    const body = JsonObject.body(
      { agent_name: "A", instructions: "i", tools: [tool({ provisioning: "maybe" }), 5, tool({ id: "b" })] },
      CONTENT_FIELDS,
    );
    const content = contentFromBody(body, check);
    expect(check.any()).toBe(true);
    expect(content.tools.map((t) => [t.id, t.provisioning])).toEqual([
      ["notes", Provisioning.UNSPECIFIED],
      ["", Provisioning.UNSPECIFIED],
      ["b", Provisioning.USER],
    ]);
  });

  it("names a rollout's content under content.", () => {
    const content = JsonObject.of({ tools: [tool({ provisioning: "maybe" })] }, "content", CONTENT_FIELDS);
    expect(refused(() => contentFromBody(content))).toEqual([
      "content.agent_name",
      "content.instructions",
      "content.tools[0].provisioning",
    ]);
  });

  it("still stops at once at a field the body may not have", () => {
    const body = JsonObject.body({ agent_name: 9, tools: [tool({ colour: "red" })] }, CONTENT_FIELDS);
    expect(refused(() => contentFromBody(body, new Violations()))).toEqual(["tools[0].colour"]);
  });

  it("names the provisioning of every tool whose word REST has no value for, whatever the others hold", () => {
    const word = fc.constantFrom("pool", "user", "maybe", "", 3);
    fc.assert(
      fc.property(fc.array(word, { maxLength: 6 }), (words) => {
        const body = JsonObject.body(
          {
            agent_name: "A",
            instructions: "i",
            tools: words.map((provisioning, i) => tool({ id: `t${i}`, provisioning })),
          },
          CONTENT_FIELDS,
        );
        const expected = words.flatMap((w, i) => (w === "pool" || w === "user" ? [] : [`tools[${i}].provisioning`]));
        expect(refused(() => contentFromBody(body))).toEqual(expected);
      }),
    );
  });
});

describe("a template's patch read from a REST body", () => {
  it("names a base, a runtime, a trust level and a tool it cannot read at once", () => {
    const body = JsonObject.body(
      { base: {}, runtime: "pool", max_trust_level: "L9", tools: [tool({ provisioning: "maybe" })] },
      CONTENT_FIELDS,
    );
    expect(refused(() => patchFromBody(body))).toEqual(["base", "runtime", "max_trust_level", "tools[0].provisioning"]);
  });

  it("leaves a field it cannot read unset, so the patch does not change it", () => {
    const check = new Violations();
    const patch = patchFromBody(JsonObject.body({ agent_name: 9, description: "d" }, CONTENT_FIELDS), check);
    expect(check.names("agent_name")).toBe(true);
    expect(patch.agentName).toBeUndefined();
    expect(patch.description).toBe("d");
  });
});
