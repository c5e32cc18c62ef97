import { describe, expect, it } from "vitest";
import { CommandUsageError, parseCommandLine } from "../../command-line/parse.js";
import { commandUsage } from "../../command-line/table.js";

/** The message of the usage error `argv` is refused with. */
function refusal(argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CommandUsageError);
    return (err as CommandUsageError).message;
  }
  throw new Error(`${argv.join(" ")} was taken`);
}

describe("the approval commands' and keygen's arguments", () => {
  it("approve takes exactly one answer, --yes or --no", () => {
    expect(parseCommandLine(["approve", "inst_1", "q1", "--yes"])).toMatchObject({
      command: "approve",
      args: { ID: "inst_1", QUESTION_ID: "q1" },
      approve: true,
    });
    expect(parseCommandLine(["approve", "inst_1", "q1", "--no"])).toMatchObject({ approve: false });
    expect(refusal(["approve", "inst_1", "q1"])).toMatch(/one answer: --yes or --no/);
    expect(refusal(["approve", "inst_1", "q1", "--yes", "--no"])).toMatch(/one answer: --yes or --no/);
    expect(commandUsage("approve")).toBe("usage: pool [--url URL] [--key FILE] approve ID QUESTION_ID --yes|--no");
    expect(parseCommandLine(["approvals", "inst_1"])).toMatchObject({ command: "approvals", args: { ID: "inst_1" } });
  });

  it("keygen's --conversation picks an identity of a Convos home, so it needs --from-convos", () => {
    expect(parseCommandLine(["keygen", "--from-convos", "/tmp/c", "--conversation", "c1"])).toMatchObject({
      fromConvos: "/tmp/c",
      conversation: "c1",
    });
    expect(refusal(["keygen", "--conversation", "c1"])).toMatch(/give DIR too/);
  });
});
