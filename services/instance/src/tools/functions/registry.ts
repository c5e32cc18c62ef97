// Every function an agent can call, in the order the model is offered them.
// The model's function list and the dispatch of its calls both read this one
// list (agent-tools.ts): a function is offered if and only if it can run.
// A new tool is a `defineTool` in a file of its own tool (tool.ts), and a
// line here.

import { listEmail, readEmail, sendEmail } from "./mail-tools.js";
import { sendSms } from "./sms-tools.js";
import type { Tool } from "./tool.js";
import { sendPayment, walletBalance } from "./wallet-tools.js";

export const TOOLS: readonly Tool[] = [sendSms, sendEmail, listEmail, readEmail, walletBalance, sendPayment];

const BY_NAME = new Map(TOOLS.map((t) => [t.name, t]));

/** The tool whose function is `name`, if there is one. */
export function toolNamed(name: string): Tool | undefined {
  return BY_NAME.get(name);
}
