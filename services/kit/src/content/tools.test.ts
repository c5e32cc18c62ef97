// A template's tools as validateContent checks them: every fault of every
// tool named at once, each field once. Pure: nothing stands in.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fieldViolations } from "./errors.js";
import { validateContent, type ToolJson } from "./template.js";
import { sampleContent } from "../../test/fixtures.js";

/** The fields validateContent names for a content with these tools (none when it holds). */
function toolFaults(tools: ToolJson[]): string[] {
  try {
    validateContent(sampleContent({ tools }));
    return [];
  } catch (err) {
    return fieldViolations(err as Error).map((v) => v.field);
  }
}

const unspecified = "unspecified" as ToolJson["provisioning"];
const zero: ToolJson = { id: "", name: "", provisioning: unspecified, description: "", prompt: "", required: false };
const mail: ToolJson = {
  id: "personal-email",
  name: "Your email",
  provisioning: "user",
  description: "",
  prompt: "Your email?",
  required: true,
};

describe("a template's tools", () => {
  it("a tool with neither an id nor a provisioning names both, not the id alone", () => {
    expect(toolFaults([zero])).toEqual(["content.tools[0].id", "content.tools[0].provisioning"]);
  });

  it("names a fault of every bad tool, not the first bad tool's alone", () => {
    const poolMail = { ...mail, id: "mail", provisioning: "pool" as const };
    expect(toolFaults([mail, { ...mail, id: "Bad Id" }, poolMail, { ...mail, id: "notes", prompt: " " }])).toEqual([
      "content.tools[1].id",
      "content.tools[2].id",
      "content.tools[3].prompt",
    ]);
  });

  it("names each field once: an id of the wrong form is not also named as one the pool does not provision", () => {
    expect(toolFaults([{ ...zero, id: "Not An Id", provisioning: "pool", kind: "email" }])).toEqual([
      "content.tools[0].id",
      "content.tools[0].kind",
    ]);
  });

  it("a duplicate id is named at the later tool", () => {
    expect(toolFaults([mail, { ...mail }])).toEqual(["content.tools[1].id"]);
  });

  it("a tool's faults are the same whatever the other tools hold (their ids apart)", () => {
    const tool = fc.record({
      id: fc.constantFrom("", "sms", "mail", "Bad", "x".repeat(65)),
      name: fc.constantFrom("", "SMS", "n".repeat(101)),
      provisioning: fc.constantFrom("pool", "user", unspecified),
      description: fc.constantFrom("", "d".repeat(1001)),
      prompt: fc.constantFrom("", " ", "Your number?", "p".repeat(501)),
      required: fc.boolean(),
      kind: fc.constantFrom(undefined, "email", "phone"),
    });
    fc.assert(
      fc.property(fc.array(tool, { maxLength: 5 }), (drawn) => {
        // Ids made distinct (but the ones of the wrong form), so that no fault is a duplicate's.
        const tools = drawn.map(({ kind, ...t }, i) => ({
          ...t,
          ...(kind ? { kind } : {}),
          id: t.id === "mail" ? `mail-${i}` : t.id === "sms" && i > 0 ? `sms-${i}` : t.id,
        }));
        const all = toolFaults(tools);
        tools.forEach((t, i) => {
          const alone = toolFaults([t]).map((f) => f.replace("content.tools[0]", `content.tools[${i}]`));
          expect(all.filter((f) => f.startsWith(`content.tools[${i}]`))).toEqual(alone);
        });
      }),
    );
  });
});
