// The arguments of the commands of an agent in several conversations
// (add-to, leave, conversations, memory-share), parsed as main parses them:
// nothing is signed or sent.
import { describe, expect, it } from "vitest";
import { CommandUsageError, parseCommandLine } from "../../command-line/parse.js";
import { commandUsage, usage } from "../../command-line/table.js";

/** The message of the usage error `argv` is refused with, and the command whose usage line it shows. */
function refused(argv: string[]): [string, string | undefined] {
  try {
    parseCommandLine(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CommandUsageError);
    return [(err as CommandUsageError).message, (err as CommandUsageError).command];
  }
  throw new Error(`${argv.join(" ")} was taken`);
}

const INVITE = "https://dev.convos.org/v2?i=dinner-club";

describe("add-to ID INVITE", () => {
  it("takes the participation there, the tools there and the second agent's confirmation, each only when given", () => {
    expect(
      parseCommandLine([
        "add-to",
        "inst_1",
        INVITE,
        "--mode",
        "mention",
        "--cooldown",
        "60",
        "--tools",
        "none",
        "--second-agent",
      ]),
    ).toMatchObject({
      command: "add-to",
      args: { ID: "inst_1", INVITE },
      participation: { mode: "mention", cooldown_seconds: 60 },
      conversationTools: "none",
      secondAgent: true,
    });
    const bare = parseCommandLine(["add-to", "inst_1", INVITE]);
    expect(bare.participation).toEqual({});
    expect(bare.conversationTools).toBeUndefined();
    expect(bare.secondAgent).toBeUndefined();
    expect(parseCommandLine(["add-to", "inst_1", INVITE, "--cooldown", "0"]).participation).toEqual({
      cooldown_seconds: 0,
    });
    expect(parseCommandLine(["add-to", "inst_1", INVITE, "--tools", "shared"]).conversationTools).toBe("shared");
    // grant-tools keeps its own --tools, a list it reads itself.
    expect(parseCommandLine(["grant-tools", "tmpl_1", "--tools", "sms,email"]).grantTools).toBe("sms,email");
    expect(parseCommandLine(["add-to", "inst_1", INVITE, "--tools", "none"]).grantTools).toBeUndefined();
  });

  it("refuses a mode, a cooldown or tools it does not take, a missing invite and options of other commands", () => {
    expect(refused(["add-to", "inst_1", INVITE, "--mode", "loud"])).toEqual([
      '--mode takes auto, speak, mention, paused (got "loud")',
      "add-to",
    ]);
    expect(refused(["add-to", "inst_1", INVITE, "--cooldown", "86401"])[0]).toMatch(
      /^--cooldown takes whole seconds from 0 to 86400/,
    );
    expect(refused(["add-to", "inst_1", INVITE, "--cooldown", "1m"])[0]).toMatch(/^--cooldown takes whole seconds/);
    expect(refused(["add-to", "inst_1", INVITE, "--tools", "sms"])).toEqual([
      '--tools takes shared, none (got "sms")',
      "add-to",
    ]);
    expect(refused(["add-to", "inst_1"])).toEqual(["add-to takes 2 arguments (ID INVITE), got 1", "add-to"]);
    expect(refused(["add-to", "inst_1", ""])[0]).toBe("INVITE must not be empty");
    expect(refused(["add-to", "inst_1", INVITE, "--model", "m"])[0]).toBe("add-to takes no --model");
    expect(refused(["participation", "inst_1", "--tools", "none"])[0]).toBe("participation takes no --tools");
  });
});

describe("leave ID CONVERSATION and conversations ID", () => {
  it("take the agent and the conversation's id", () => {
    expect(parseCommandLine(["leave", "inst_1", "c0ffee"])).toMatchObject({
      command: "leave",
      args: { ID: "inst_1", CONVERSATION: "c0ffee" },
    });
    expect(parseCommandLine(["conversations", "inst_1"])).toMatchObject({
      command: "conversations",
      args: { ID: "inst_1" },
    });
    expect(refused(["leave", "inst_1"])).toEqual(["leave takes 2 arguments (ID CONVERSATION), got 1", "leave"]);
    expect(refused(["leave", "inst_1", ""])[0]).toBe("CONVERSATION must not be empty");
    expect(refused(["conversations"])[1]).toBe("conversations");
    expect(refused(["conversations", "inst_1", "--mode", "speak"])[0]).toBe("conversations takes no --mode");
  });
});

describe("memory-share ID ENTRY_ID... [--off]", () => {
  it("takes one or more ids, separated by spaces or commas, and --off to take them back", () => {
    expect(parseCommandLine(["memory-share", "inst_1", "mem_000000000001"])).toMatchObject({
      entryIds: ["mem_000000000001"],
      off: false,
    });
    expect(
      parseCommandLine(["memory-share", "inst_1", "mem_000000000001,mem_000000000002", "mem_000000000003", "--off"]),
    ).toMatchObject({ entryIds: ["mem_000000000001", "mem_000000000002", "mem_000000000003"], off: true });
  });

  it("refuses no id at all, and --off on another command", () => {
    expect(refused(["memory-share", "inst_1"])).toEqual([
      "memory-share takes at least 2 arguments (ID ENTRY_ID...), got 1",
      "memory-share",
    ]);
    expect(refused(["memory-share", "inst_1", ","])[0]).toMatch(/^ENTRY_ID\.\.\.: name at least one entry/);
    expect(refused(["memory-forget", "inst_1", "mem_000000000001", "--off"])[0]).toBe("memory-forget takes no --off");
  });
});

describe("their usage", () => {
  it("is in the help text and on each one's usage line", () => {
    for (const name of ["add-to", "leave", "conversations", "memory-share"]) expect(usage()).toContain(`  ${name} ID`);
    expect(commandUsage("add-to")).toBe(
      "usage: pool [--url URL] [--key FILE] add-to ID INVITE [--mode auto|speak|mention|paused] [--cooldown SECONDS] [--tools shared|none] [--second-agent]",
    );
    expect(commandUsage("memory-share")).toBe(
      "usage: pool [--url URL] [--key FILE] memory-share ID ENTRY_ID... [--off]",
    );
  });
});
