// Explicit commands for the offline model, which cannot read intent: a
// message that is one of these calls the tool (through the trust gate like
// any model's call). docs/trust.md lists them.
//
//   text +15550100001: running late          (also "sms ..."; a contact's name instead of the number)
//   email saul@example.com about Dinner: 7pm  ("about ..." optional; the address may name an owner's setting)
//   check mail                                (also "list mail", "inbox")
//   read mail <id>
//   balance                                   (also "wallet balance")
//   pay 0x… 0.01 ETH                          (also "send 0.01 ETH to 0x…"; "pay Ana 0.01 ETH", a contact)

export interface OfflineCommand {
  name: string;
  args: Record<string, unknown>;
}

const RULES: [RegExp, (m: RegExpMatchArray) => OfflineCommand][] = [
  [
    /^(?:text|sms)\s+(\+\d{7,15}|[\p{L}][\p{L}\p{N}_-]*)\s*:\s*([\s\S]+)$/iu,
    ([, to, text = ""]) => ({ name: "send_sms", args: { to, text: text.trim() } }),
  ],
  [
    /^e-?mail\s+(\S+?)(?:\s+about\s+([^:]+?))?\s*:\s*([\s\S]+)$/i,
    ([, to, about, body = ""]) => {
      const text = body.trim();
      // No subject given: the first line of the text, cut.
      return {
        name: "send_email",
        args: { to, subject: about?.trim() || text.replace(/\n[\s\S]*$/, "").slice(0, 60), text },
      };
    },
  ],
  [
    /^(?:check|list)\s+(?:my\s+)?(?:e-?mail|mail|inbox)\s*[.!?]?$|^inbox\s*[.!?]?$/i,
    () => ({ name: "list_email", args: {} }),
  ],
  [/^read\s+(?:e-?mail|mail)\s+(\S+)\s*$/i, (m) => ({ name: "read_email", args: { id: m[1] } })],
  [/^(?:wallet\s+)?balance\s*[.!?]?$/i, () => ({ name: "wallet_balance", args: {} })],
  [
    /^pay\s+(0x[0-9a-fA-F]{40}|[\p{L}][\p{L}\p{N}_-]*)\s+(\d+(?:\.\d+)?)\s*(?:eth)?\s*[.!]?$/iu,
    (m) => ({ name: "send_payment", args: { to: m[1], amount_eth: m[2] } }),
  ],
  [
    /^send\s+(\d+(?:\.\d+)?)\s*eth\s+to\s+(0x[0-9a-fA-F]{40})\s*[.!]?$/i,
    (m) => ({ name: "send_payment", args: { to: m[2], amount_eth: m[1] } }),
  ],
];

/**
 * The command a message is, if it is one; addressed to the agent by name
 * ("Concierge, pay …", "@Concierge pay …") when `agentName` is given.
 */
export function offlineCommand(text: string, agentName?: string): OfflineCommand | undefined {
  let t = text.trim();
  if (agentName) t = t.replace(new RegExp(`^@?${escapeRegExp(agentName)}\\s*[,:]?\\s+`, "i"), "");
  for (const [pattern, build] of RULES) {
    const m = t.match(pattern);
    if (m) return build(m);
  }
  return undefined;
}

/** `s` matched literally inside a regular expression. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
