import { describe, expect, it } from "vitest";
import { CommandUsageError, parseCommandLine } from "../../command-line/parse.js";

describe("the memory commands' arguments", () => {
  it("memory-import takes --secret NAME=VALUE, the value kept whole (an = inside too)", () => {
    const p = parseCommandLine([
      "memory-import",
      "inst_1",
      "m.json",
      "--secret",
      "memory:mem_0a=pin is 1=2",
      "--secret",
      "config:city=Lisbon",
    ]);
    expect(p.secrets).toEqual({ "memory:mem_0a": "pin is 1=2", "config:city": "Lisbon" });
    expect(() => parseCommandLine(["memory-import", "inst_1", "m.json", "--secret", "novalue"])).toThrow(
      /--secret takes NAME=VALUE/,
    );
    expect(() => parseCommandLine(["memory-import", "inst_1", "m.json", "--secret", "a=1", "--secret", "a=2"])).toThrow(
      /given twice/,
    );
  });

  it("sharing needs both --offer and --adopt, each on or off", () => {
    expect(parseCommandLine(["sharing", "inst_1", "--offer", "on", "--adopt", "off"])).toMatchObject({
      offer: true,
      adopt: false,
    });
    expect(() => parseCommandLine(["sharing", "inst_1", "--offer", "on"])).toThrow("--adopt takes on or off");
    expect(() => parseCommandLine(["sharing", "inst_1", "--offer", "yes", "--adopt", "off"])).toThrow(
      '--offer takes on or off (got "yes")',
    );
  });

  it("memory-list takes --feedback, and the other commands do not take the memory options", () => {
    expect(parseCommandLine(["memory-list", "inst_1", "--feedback"]).feedback).toBe(true);
    expect(() => parseCommandLine(["memory-export", "inst_1", "f.json", "--feedback"])).toThrow(CommandUsageError);
    expect(() => parseCommandLine(["agents", "--secret", "a=b"])).toThrow("agents takes no --secret");
  });
});
