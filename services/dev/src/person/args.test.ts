// The person tool's command line (args.ts), pure: what each command takes, and the usage errors.
import { describe, expect, it } from "vitest";
import { DEFAULT_API_URL, parseCommand, UsageError } from "./args.js";

const home = ["--home", "/tmp/ada"];

describe("the person tool's command line", () => {
  it("reads each command with its own options, on the local node by default", () => {
    expect(parseCommand(["join", "https://dev.convos.org/v2?i=x", "--name", "Ada", ...home])).toEqual({
      command: "join",
      invite: "https://dev.convos.org/v2?i=x",
      name: "Ada",
      home: "/tmp/ada",
      apiUrl: DEFAULT_API_URL,
    });
    expect(parseCommand(["say", "c1", "no, Tuesday", "--reply-to", "m1", ...home, "--api-url", "http://h:1"])).toEqual({
      command: "say",
      conversationId: "c1",
      text: "no, Tuesday",
      replyTo: "m1",
      home: "/tmp/ada",
      apiUrl: "http://h:1",
    });
    expect(parseCommand(["react", "c1", "m1", "👎", "--remove", ...home])).toMatchObject({ emoji: "👎", remove: true });
    expect(parseCommand(["react", "c1", "m1", "👍", ...home])).toMatchObject({ remove: false });
    expect(parseCommand(["messages", "c1", "--after", "m1", ...home])).toMatchObject({ after: "m1" });
  });

  it.each([
    [[], /no command/],
    [["shout", "c1", ...home], /unknown command: shout/],
    [["join", "inv", ...home], /join needs --name/],
    [["say", "c1", "hi"], /--home DIR is required/],
    [["say", "c1", ...home], /say takes 2 argument\(s\), got 1/],
    [["react", "c1", "m1", "👍", "--name", "Ada", ...home], /react takes no --name/],
    [["messages", "c1", "--remove", ...home], /messages takes no --remove/],
    [["messages", "c1", "--since", "m1", ...home], /since/],
    [["say", "c1", "hi", ...home, "--api-url", "localhost"], /not a URL/],
  ])("refuses %j", (argv, reason) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(reason);
  });
});
