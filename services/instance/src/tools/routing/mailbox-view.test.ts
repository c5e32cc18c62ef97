// The mailbox as a conversation's turn reads it (mailbox-view.ts): the real
// routing (policy.ts) over a mailbox of three mails held in memory (the
// mail server is a stand-in here; tools.int.test.ts reads the real one).
import { describe, expect, it } from "vitest";
import type { Reader } from "../../walls/labels.js";
import { MailError, type MailMessage, type MailSummary, type Mailbox } from "../providers/mail.js";
import { mailboxFor } from "./mailbox-view.js";
import { NO_ROUTES, recordMail, routeMail } from "./policy.js";

const HOME = "conv-home";
const A = "conv-a";
const B = "conv-b";

const mails: MailMessage[] = [
  {
    id: "1",
    from: "doctor@clinic.example",
    to: "agent",
    subject: "Your results",
    date: "",
    text: "all clear",
    messageId: "<r1@clinic>",
    inReplyTo: "<sent-a@agent>",
  },
  {
    id: "2",
    from: "venue@club.example",
    to: "agent",
    subject: "Booking",
    date: "",
    text: "table for 8",
    messageId: "<r2@club>",
    references: "<x@y> <sent-b@agent>",
  },
  {
    id: "3",
    from: "stranger@spam.example",
    to: "agent",
    subject: "Hello",
    date: "",
    text: "buy now",
    messageId: "<r3@spam>",
  },
];
const inner: Mailbox = {
  send: async () => ({ messageId: "<new@agent>" }),
  list: async ({ limit = 20 } = {}) =>
    mails.slice(0, limit).map(({ text: _t, to: _to, messageId: _m, ...m }): MailSummary => ({ ...m, size: 1 })),
  read: async (id) => {
    const m = mails.find((x) => x.id === id);
    if (!m) throw new MailError(`no message with id ${id}`);
    return m;
  },
};
const routes = recordMail(
  recordMail(NO_ROUTES, { messageId: "<sent-a@agent>" }, A, 1),
  { messageId: "<sent-b@agent>" },
  B,
  2,
);
const placeOf = async (m: Parameters<typeof routeMail>[2]) => routeMail(routes, HOME, m);
const person = (conversationId: string, owner = true): Reader => ({
  kind: "person",
  conversationId,
  inboxId: owner ? "saul" : "bea",
  owner,
});
const ids = async (reader: Reader) => (await mailboxFor(inner, reader, placeOf).list()).map((m) => m.id);

describe("the mailbox as a conversation reads it", () => {
  it("lists in each conversation the threads of mail sent from there, and the rest in the home", async () => {
    expect(await ids(person(A))).toEqual(["1"]);
    expect(await ids(person(B, false))).toEqual(["2"]);
    expect(await ids(person(HOME))).toEqual(["3"]);
  });

  it("reads a mail only in its conversation: elsewhere it is an id it does not hold", async () => {
    await expect(mailboxFor(inner, person(A), placeOf).read("1")).resolves.toMatchObject({ text: "all clear" });
    await expect(mailboxFor(inner, person(B), placeOf).read("1")).rejects.toThrow("no message with id 1");
    await expect(mailboxFor(inner, person(HOME), placeOf).read("2")).rejects.toThrow(MailError);
  });

  it("gives a turn for someone outside no mail, not even in the conversation it answers from", async () => {
    expect(await ids({ kind: "outsider", conversationId: A, address: "+15550100111" })).toEqual([]);
  });

  it("sends as the mailbox does", async () => {
    await expect(
      mailboxFor(inner, person(B), placeOf).send({ to: "x@y.example", subject: "s", text: "t" }),
    ).resolves.toEqual({
      messageId: "<new@agent>",
    });
  });
});
