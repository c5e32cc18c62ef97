// send_sms's arguments as a model sends them, read in memory: typed when
// good, refused in words that name the argument when not; and the call as
// the gate is told of it. The Telnyx client is real and reaches nothing:
// preparing a call never contacts a provider.
import { describe, expect, it } from "vitest";
import { sendSms } from "./sms-tools.js";
import { TelnyxClient } from "../providers/telnyx.js";
import { ToolInputError, type RawArguments } from "./tool.js";

const SETTINGS = { "my-phone": "+15550100001" };
const refusal = (args: RawArguments) => {
  try {
    sendSms.parse(args, SETTINGS);
  } catch (err) {
    expect(err).toBeInstanceOf(ToolInputError);
    return (err as Error).message;
  }
  return "accepted";
};

describe("send_sms's arguments", () => {
  it("are read as a number in international form and the text, trimmed", () => {
    expect(sendSms.parse({ to: " +15550100001 ", text: " running late " }, SETTINGS)).toEqual({
      to: "+15550100001",
      text: "running late",
    });
    expect(sendSms.parse({ to: "+15550100001", text: "x".repeat(1600) }, SETTINGS).text).toHaveLength(1600);
  });

  it("take the name of an owner's setting for the number it holds", () => {
    expect(sendSms.parse({ to: "my-phone", text: "hi" }, SETTINGS)).toEqual({ to: "+15550100001", text: "hi" });
  });

  it("are refused, naming the argument, when one is missing, is not text, or is too long", () => {
    expect(refusal({ text: "hi" })).toBe("to is required");
    expect(refusal({ to: "", text: "hi" })).toBe("to is required");
    expect(refusal({ to: "+15550100001" })).toBe("text is required");
    expect(refusal({ to: { number: "+15550100001" }, text: "hi" })).toBe("to must be text");
    expect(refusal({ to: "+15550100001", text: ["hi"] })).toBe("text must be text");
    expect(refusal({ to: "+15550100001", text: "x".repeat(1601) })).toBe("text is longer than 1600 characters");
  });

  it("are refused when the number is not in international form, quoting what was given", () => {
    for (const to of [
      "call me",
      "5550100001",
      "+0155501000",
      "+155501",
      "+1 555 010 0001",
      "unknown-setting",
      "toString",
    ])
      expect(refusal({ to, text: "hi" })).toBe(
        `"${to}" is not a phone number in international form (for example +15550100001)`,
      );
  });
});

describe("a text, as the gate is told of it", () => {
  it("is an act that reaches the number, logged with its text cut short and stated in full for the owner", async () => {
    const client = new TelnyxClient({ baseUrl: "http://127.0.0.1:9", apiKey: "unused" });
    const long = `running late, ${"very ".repeat(20)}late`;
    const call = sendSms.prepare({ to: "my-phone", text: long }, { sms: { handle: "+15550100042", client } }, SETTINGS);
    expect(call).toMatchObject({
      toolId: "sms",
      action: "send_sms",
      risk: "act",
      target: "+15550100001",
      amountWei: 0n,
      summary: `text +15550100001: “${long.slice(0, 79)}…”`,
    });
    expect(call.outsideWords).toBeUndefined();
    expect(await call.statement?.()).toBe(`Send a text\nTo: +15550100001\nText: ${long}`);
  });

  it("is refused before its arguments are read when the agent has no number this host reaches", () => {
    expect(() => sendSms.prepare({}, {}, SETTINGS)).toThrow(
      new ToolInputError("I have no phone number to do that with"),
    );
  });
});

describe("a text sent", () => {
  it("names the number an answer may come back from, for routing", async () => {
    const client = { sendMessage: async () => ({ id: "msg-1" }) } as unknown as TelnyxClient;
    const call = sendSms.prepare({ to: "+15550100002", text: "hi" }, { sms: { handle: "+15550100009", client } }, {});
    expect(await call.run()).toEqual({
      result: "texted +15550100002 (message msg-1)",
      sent: { kind: "text", number: "+15550100002" },
    });
  });
});
