// The function of an agent's `sms` tool: a text from its number.

import { firingKey } from "@convos-pool/kit/content";
import { defineTool, quote, text, ToolInputError } from "./tool.js";

const E164 = /^\+[1-9]\d{6,14}$/;
const MAX_TEXT = 1600;

function phoneNumber(to: string): string {
  if (!E164.test(to))
    throw new ToolInputError(`"${to}" is not a phone number in international form (for example +15550100001)`);
  return to;
}

export const sendSms = defineTool({
  name: "send_sms",
  toolId: "sms",
  risk: "act",
  description: (number) => `Text a phone number from your number ${number}.`,
  parameters: {
    to: text("E.164 phone number, for example +15550100001", { setting: true, check: phoneNumber }),
    text: text("the text, at most 1600 characters", { max: MAX_TEXT }),
  },
  target: ({ to }) => to,
  summary: ({ to, text }) => `text ${to}: ${quote(text)}`,
  statement: async ({ to, text }) => `Send a text\nTo: ${to}\nText: ${text}`,
  // A scheduled firing's text carries its key: the provider sends one for two sends of that firing.
  run: async ({ to, text }, sms, _quote, firing) => {
    const sent = await sms.client.sendMessage(sms.handle, to, text, firing && firingKey(firing.id));
    return { result: `texted ${to} (message ${sent.id})`, sent: { kind: "text", number: to } };
  },
});
