// A template's REST body read into content, as plain calls (no server): a
// user tool's kind, kept when given, left out when not (so the content
// hashes as the creator's client hashed it).
import { describe, expect, it } from "vitest";
import { toolKindName } from "@convos-pool/kit/content";
import { RestError } from "./errors.js";
import { JsonObject } from "./json.js";
import { CONTENT_FIELDS, contentFromBody } from "./templates-json.js";

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
