// The person tool's command line (args.ts), pure: what each command takes, and the usage errors.
import { describe, expect, it } from "vitest";
import { DEFAULT_API_URL, parseCommand, phoneData, UsageError } from "./args.js";

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
    expect(parseCommand(["messages", "c1", "--after", "m1", ...home])).toMatchObject({ after: "m1", waitSeconds: 0 });
    expect(
      parseCommand(["messages", "c1", "--after", "m1", "--wait", "120", "--containing", "offline model", ...home]),
    ).toMatchObject({ after: "m1", waitSeconds: 120, containing: "offline model" });
    expect(parseCommand(["conversations", ...home])).toEqual({
      command: "conversations",
      home: "/tmp/ada",
      apiUrl: "http://localhost:5556",
    });
  });

  it("reads the phone's commands: a kind's data inline or in a file, and how the phone answers", () => {
    expect(parseCommand(["phone-share", "c1", "calendar", "--data", '{"summary":"1 event"}', ...home])).toEqual({
      command: "phone-share",
      conversationId: "c1",
      kind: "calendar",
      data: { json: { summary: "1 event" } },
      home: "/tmp/ada",
      apiUrl: DEFAULT_API_URL,
    });
    expect(parseCommand(["phone-share", "c1", "home_kit", "--data-file", "home.json", ...home])).toMatchObject({
      kind: "home_kit",
      data: { file: "home.json" },
    });
    // By default the phone does what it is asked, and the person approves.
    expect(parseCommand(["phone-answer", "c1", ...home])).toEqual({
      command: "phone-answer",
      conversationId: "c1",
      status: "success",
      pick: "approved",
      waitSeconds: 0,
      home: "/tmp/ada",
      apiUrl: DEFAULT_API_URL,
    });
    expect(
      parseCommand([
        "phone-answer",
        "c1",
        "--status",
        "execution_failed",
        "--error-message",
        "read-only",
        "--pick",
        "denied",
        "--wait",
        "30",
        ...home,
      ]),
    ).toMatchObject({ status: "execution_failed", errorMessage: "read-only", pick: "denied", waitSeconds: 30 });
    expect(parseCommand(["phone-answer", "c1", "--status", "capability_not_enabled", ...home])).toMatchObject({
      status: "capability_not_enabled",
    });
  });

  it("takes a kind's data as a JSON object only", () => {
    expect(phoneData('{"events":[]}', "--data")).toEqual({ events: [] });
    expect(() => phoneData("[1]", "--data-file")).toThrow(/--data-file: not a JSON object/);
    expect(() => phoneData("{", "--data")).toThrow(/--data: not JSON/);
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
    [["messages", "c1", "--containing", "x", ...home], /--containing goes with --wait/],
    [["messages", "c1", "--wait", "1m", ...home], /--wait: 1m is not a number of seconds/],
    [["conversations", "c1", ...home], /conversations takes 0 argument\(s\), got 1/],
    [["say", "c1", "hi", ...home, "--api-url", "localhost"], /not a URL/],
    [["phone-share", "c1", "weather", "--data", "{}", ...home], /phone-share KIND: weather is not one of health, /],
    [["phone-share", "c1", "calendar", ...home], /needs --data JSON or --data-file FILE/],
    [["phone-share", "c1", "calendar", "--data", "{}", "--data-file", "f", ...home], /one of them/],
    [["phone-share", "c1", "calendar", "--data", "null", ...home], /--data: not a JSON object/],
    [["phone-share", "calendar", "--data", "{}", ...home], /phone-share takes 2 argument\(s\), got 1/],
    [["phone-answer", "c1", "--status", "ok", ...home], /--status: ok is not one of success, /],
    [["phone-answer", "c1", "--pick", "yes", ...home], /--pick: yes is not one of approved, denied, cancelled/],
    [["phone-answer", "c1", "--wait", "soon", ...home], /--wait: soon is not a number of seconds/],
    [["phone-answer", "c1", "--wait", "601", ...home], /--wait: 601/],
    [["phone-answer", "c1", "--error-message", "no", ...home], /--error-message goes with a --status/],
    [["phone-answer", "c1", "--data", "{}", ...home], /phone-answer takes no --data/],
    [["say", "c1", "hi", "--status", "success", ...home], /say takes no --status/],
  ])("refuses %j", (argv, reason) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(reason);
  });
});
