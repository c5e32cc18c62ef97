// A content or patch file read as the CLI and the web app's JSON view read
// it (fillContentJson, fillPatchJson): every field of the wrong shape named
// at once, each with its path, as the gateway's REST face names them. Pure:
// nothing stands in.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ContentJsonError, fillContentJson, fillPatchJson } from "./template-json.js";

function refusal(read: () => unknown): ContentJsonError | undefined {
  try {
    read();
    return undefined;
  } catch (err) {
    if (!(err instanceof ContentJsonError)) throw err;
    return err;
  }
}
const fields = (read: () => unknown) => refusal(read)?.violations.map((v) => v.field) ?? [];

const tool = (over: Record<string, unknown>) => ({ id: "notes", provisioning: "user", prompt: "Where?", ...over });

describe("a content file", () => {
  it("names every field of the wrong shape at once, each with its path, not the first alone", () => {
    const file = {
      agent_name: 9,
      tools: [tool({ provisioning: "maybe" }), 5, tool({ id: 3, kind: "colour" })],
      tags: "travel",
      routines: [{ id: "r", rrule: "FREQ=DAILY", time: "09:00", zone: "UTC" }],
    };
    expect(fields(() => fillContentJson(file, "trip.json"))).toEqual([
      "agent_name",
      "instructions",
      "tools[0].provisioning",
      "tools[1]",
      "tools[2].id",
      "tools[2].kind",
      "tags",
      "routines[0].zone",
    ]);
  });

  it("says them all in its message, after where, and the first as its field", () => {
    const err = refusal(() => fillContentJson({ agent_name: "A" }, "a.json"));
    expect(err?.message).toBe("a.json: instructions: is required");
    expect(err?.field).toBe("instructions");
    const both = refusal(() => fillContentJson({}, "a.json"));
    expect(both?.message).toBe("a.json: agent_name: is required; instructions: is required");
  });

  it("names the provisioning of every tool whose word is neither, whatever the others hold", () => {
    const word = fc.constantFrom("pool", "user", "maybe", "", 3);
    fc.assert(
      fc.property(fc.array(word, { maxLength: 6 }), (words) => {
        const file = {
          agent_name: "A",
          instructions: "i",
          tools: words.map((p, i) => tool({ id: `t${i}`, provisioning: p })),
        };
        const expected = words.flatMap((w, i) => (w === "pool" || w === "user" ? [] : [`tools[${i}].provisioning`]));
        expect(fields(() => fillContentJson(file))).toEqual(expected);
      }),
    );
  });
});

describe("a patch file", () => {
  it("names a base, a runtime, a null and a tool of the wrong shape at once", () => {
    const file = { base: {}, runtime: "pool", description: null, tools: [tool({ provisioning: "maybe" })] };
    expect(fields(() => fillPatchJson(file))).toEqual(["description", "base", "runtime", "tools[0].provisioning"]);
  });

  it("that sets nothing says so, and one whose fields are all wrong says only what is wrong with them", () => {
    expect(refusal(() => fillPatchJson({}, "p.json"))?.message).toMatch(/^p\.json: sets no content field/);
    expect(fields(() => fillPatchJson({ tags: "x" }))).toEqual(["tags"]);
  });
});
