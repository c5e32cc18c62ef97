// The functions of an agent's `email` tool: a mail from its address, and its
// inbox listed and read. What the inbox holds anyone can have sent, so
// listing and reading mark the turn as having read words from outside
// (gate/gate.ts).

import { firingKey } from "@convos-pool/kit/content";
import { defineTool, quote, text, ToolInputError, wholeNumber } from "./tool.js";

const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$|^[^\s@<>()",;:]+@[a-z0-9-]+\.localhost$/i;
const MAX_SUBJECT = 200;
const MAX_MAIL = 64 * 1024;

function mailAddress(to: string): string {
  if (!EMAIL.test(to)) throw new ToolInputError(`"${to}" is not an email address`);
  return to;
}

export const sendEmail = defineTool({
  name: "send_email",
  toolId: "email",
  risk: "act",
  description: (address) => `Send an email from your address ${address}.`,
  parameters: {
    to: text("an email address, or the name of a setting from your owner that holds one", {
      setting: true,
      check: mailAddress,
    }),
    subject: text("the subject", { max: MAX_SUBJECT }),
    text: text("the body, plain text", { max: MAX_MAIL }),
  },
  target: ({ to }) => to,
  summary: ({ to, subject }) => `email ${to} about ${quote(subject, 60)}`,
  statement: async ({ to, subject, text }) => `Send a mail\nTo: ${to}\nSubject: ${subject}\n\n${text}`,
  // A scheduled firing's mail carries its key: the provider keeps one for two sends of that firing.
  run: async ({ to, subject, text }, email, _quote, firing) => {
    const sent = await email.mailbox().send({ to, subject, text, ...(firing && { once: firingKey(firing.id) }) });
    return {
      result: `mailed ${to} (${sent.messageId})`,
      sent: { kind: "mail", messageId: sent.messageId, ...(sent.threadId ? { threadId: sent.threadId } : {}) },
    };
  },
});

export const listEmail = defineTool({
  name: "list_email",
  toolId: "email",
  risk: "read",
  description: () => "List the newest mail in your inbox: id, sender, subject, date.",
  parameters: { limit: wholeNumber("how many, 1 to 20 (default 10)", { min: 1, max: 20, fallback: 10 }) },
  target: (_, address) => address,
  summary: () => "look at my inbox",
  outsideWords: true,
  run: async ({ limit }, email) => {
    const list = await email.mailbox().list({ limit });
    if (list.length === 0) return { result: "the inbox is empty" };
    return { result: list.map((m) => `[${m.id}] ${m.date} from ${m.from}: ${m.subject}`).join("\n") };
  },
});

export const readEmail = defineTool({
  name: "read_email",
  toolId: "email",
  risk: "read",
  description: () => "Read one mail of your inbox by its id (from list_email).",
  parameters: { id: text("the id list_email gave", { max: 200 }) },
  target: (_, address) => address,
  summary: () => "read a mail in my inbox",
  outsideWords: true,
  run: async ({ id }, email) => {
    const m = await email.mailbox().read(id);
    return { result: `From: ${m.from}\nTo: ${m.to}\nDate: ${m.date}\nSubject: ${m.subject}\n\n${m.text}` };
  },
});
