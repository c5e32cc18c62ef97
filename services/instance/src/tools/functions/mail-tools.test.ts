// The mail functions' arguments as a model sends them, read in memory:
// typed when good, refused in words that name the argument when not; and
// the calls as the gate is told of them. The mail client is real and
// reaches nothing: preparing a call never opens the mailbox.
import { describe, expect, it } from "vitest";
import { MailClient, type Mailbox } from "../providers/mail.js";
import { listEmail, readEmail, sendEmail } from "./mail-tools.js";
import { ToolInputError, type DefinedTool, type RawArguments, type Reach } from "./tool.js";

const SETTINGS = { "personal-email": "saul@example.com" };
const refusal = (tool: DefinedTool<unknown>, args: RawArguments) => {
  try {
    tool.parse(args, SETTINGS);
  } catch (err) {
    expect(err).toBeInstanceOf(ToolInputError);
    return (err as Error).message;
  }
  return "accepted";
};
let opened = 0;
const email: Reach["email"] = {
  handle: "concierge@agents.localhost",
  mailbox: () => {
    opened++;
    return new MailClient({
      smtpUrl: "smtp://127.0.0.1:9",
      pop3Url: "pop3://127.0.0.1:9",
      address: "concierge@agents.localhost",
      password: "unused",
    });
  },
};

describe("send_email's arguments", () => {
  it("are read as an address, a subject and a body, trimmed; an owner's setting's name stands for the address it holds", () => {
    expect(sendEmail.parse({ to: "ana@example.com", subject: " Dinner ", text: "7pm at Nopa?\n" }, SETTINGS)).toEqual({
      to: "ana@example.com",
      subject: "Dinner",
      text: "7pm at Nopa?",
    });
    expect(sendEmail.parse({ to: "personal-email", subject: "Flight", text: "Lands at 6." }, SETTINGS).to).toBe(
      "saul@example.com",
    );
    expect(sendEmail.parse({ to: "kim@mailbox.localhost", subject: "s", text: "t" }, SETTINGS).to).toBe(
      "kim@mailbox.localhost",
    );
  });

  it("are refused, naming the argument, when one is missing, is not text, or is too long", () => {
    expect(refusal(sendEmail, { subject: "s", text: "t" })).toBe("to is required");
    expect(refusal(sendEmail, { to: "ana@example.com", text: "t" })).toBe("subject is required");
    expect(refusal(sendEmail, { to: "ana@example.com", subject: "s", text: null })).toBe("text is required");
    expect(refusal(sendEmail, { to: "ana@example.com", subject: true, text: "t" })).toBe("subject must be text");
    expect(refusal(sendEmail, { to: "ana@example.com", subject: "s".repeat(201), text: "t" })).toBe(
      "subject is longer than 200 characters",
    );
    expect(refusal(sendEmail, { to: "ana@example.com", subject: "s", text: "t".repeat(64 * 1024 + 1) })).toBe(
      "text is longer than 65536 characters",
    );
  });

  it("are refused when the address is not one, quoting what was given", () => {
    for (const to of ["saul at example.com", "saul@example", "Saul <saul@example.com>", "a@b.com, c@d.com"])
      expect(refusal(sendEmail, { to, subject: "s", text: "t" })).toBe(`"${to}" is not an email address`);
  });
});

describe("list_email's and read_email's arguments", () => {
  it("read a limit from 1 to 20, 10 when none is given", () => {
    for (const limit of [undefined, null, ""]) expect(listEmail.parse({ limit }, SETTINGS)).toEqual({ limit: 10 });
    expect(listEmail.parse({ limit: 20 }, SETTINGS)).toEqual({ limit: 20 });
    expect(listEmail.parse({ limit: "5" }, SETTINGS)).toEqual({ limit: 5 });
    for (const limit of [0, 21, 2.5, "many", -1])
      expect(refusal(listEmail, { limit })).toBe("limit must be a whole number from 1 to 20");
  });

  it("read a mail's id, required and at most 200 characters", () => {
    expect(readEmail.parse({ id: " <abc@agents.localhost> " }, SETTINGS)).toEqual({ id: "<abc@agents.localhost>" });
    expect(refusal(readEmail, {})).toBe("id is required");
    expect(refusal(readEmail, { id: "x".repeat(201) })).toBe("id is longer than 200 characters");
  });
});

describe("the mail functions, as the gate is told of them", () => {
  it("a mail is an act that reaches its address, stated in full for the owner; reading is a read of its own inbox that carries outside words", async () => {
    const before = opened;
    const send = sendEmail.prepare(
      { to: "personal-email", subject: "Flight", text: "Lands at 6." },
      { email },
      SETTINGS,
    );
    expect(send).toMatchObject({ toolId: "email", risk: "act", target: "saul@example.com", amountWei: 0n });
    expect(send.summary).toBe("email saul@example.com about “Flight”");
    expect(await send.statement?.()).toBe("Send a mail\nTo: saul@example.com\nSubject: Flight\n\nLands at 6.");
    expect(send.outsideWords).toBeUndefined();
    for (const [tool, args, summary] of [
      [listEmail, {}, "look at my inbox"],
      [readEmail, { id: "1" }, "read a mail in my inbox"],
    ] as const) {
      const call = tool.prepare(args, { email }, SETTINGS);
      expect(call).toMatchObject({ toolId: "email", risk: "read", target: email.handle, summary, outsideWords: true });
      expect(call.statement).toBeUndefined();
    }
    expect(opened).toBe(before);
  });

  it("are refused before their arguments are read when the agent has no mailbox this host reaches", () => {
    for (const tool of [sendEmail, listEmail, readEmail])
      expect(() => tool.prepare({}, {}, SETTINGS)).toThrow(new ToolInputError("I have no mailbox to do that with"));
  });
});

describe("a mail sent", () => {
  it("names its Message-ID, which a reply names, for routing", async () => {
    const mailbox = { send: async () => ({ messageId: "<m1@mail.test>" }) } as unknown as Mailbox;
    const call = sendEmail.prepare(
      { to: "ana@mail.test", subject: "hi", text: "hello" },
      { email: { handle: "agent@mail.test", mailbox: () => mailbox } },
      {},
    );
    expect((await call.run()).sent).toEqual({ kind: "mail", messageId: "<m1@mail.test>" });
  });
});
