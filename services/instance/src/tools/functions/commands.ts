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
//   add Dinner on 2026-12-04 at 19:30 [for 2 hours] [in Europe/Lisbon] to my calendar
//                                             (the requester's phone; an hour and UTC unless said)
//   delete event <id> from my calendar

export interface OfflineCommand {
  name: string;
  args: Record<string, unknown>;
}

/** A rule's command; undefined when the words fit but do not make one (a date that does not exist). */
const RULES: [RegExp, (m: RegExpMatchArray) => OfflineCommand | undefined][] = [
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
  [
    /^add\s+(.+?)\s+on\s+(\d{4}-\d{2}-\d{2})\s+at\s+(\d{1,2}:\d{2})(?:\s+for\s+(\d{1,4})\s*(minutes?|mins?|hours?|h))?(?:\s+in\s+([A-Za-z][\w+-]*(?:\/[\w+-]+)*))?\s+to\s+my\s+calendar\s*[.!]?$/i,
    ([, title = "", day = "", time = "", n, unit = "", zone = "UTC"]) => {
      const minutes = n === undefined ? 60 : Number(n) * (/^h/i.test(unit) ? 60 : 1);
      const span = calendarSpan(day, time, minutes, zone);
      return span && { name: "add_calendar_event", args: { title: title.trim(), ...span, time_zone: zone } };
    },
  ],
  [
    /^delete\s+(?:the\s+)?event\s+(\S+)\s+from\s+my\s+calendar\s*[.!]?$/i,
    (m) => ({ name: "delete_calendar_event", args: { event_id: m[1] } }),
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
    const command = m && build(m);
    if (command) return command;
  }
  return undefined;
}

/** `s` matched literally inside a regular expression. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A wall-clock `day` and `time` in the IANA `zone`, and `minutes` after it,
 * as RFC 3339 times with the zone's offset at each (a span across a change
 * of summer time keeps its length); undefined for a day, time or zone that
 * does not exist.
 */
export function calendarSpan(
  day: string,
  time: string,
  minutes: number,
  zone: string,
): { start: string; end: string } | undefined {
  const [y, mo, d] = day.split("-").map(Number);
  const [h, mi] = time.split(":").map(Number);
  if (y === undefined || mo === undefined || d === undefined || h === undefined || mi === undefined) return undefined;
  if (h > 23 || mi > 59) return undefined;
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  // Date.UTC rolls 2026-02-30 over into March: such a day does not exist.
  if (new Date(wall).toISOString().slice(0, 10) !== day) return undefined;
  let offset: (at: number) => number;
  try {
    offset = offsetIn(zone);
  } catch {
    return undefined;
  }
  // The instant whose wall clock in `zone` reads `wall`: its offset is taken at the guess, then at the instant.
  const guess = wall - offset(wall);
  const start = wall - offset(guess);
  return {
    start: rfc3339(start, offset(start)),
    end: rfc3339(start + minutes * 60_000, offset(start + minutes * 60_000)),
  };
}

/** How far `zone`'s wall clock is ahead of UTC at an instant, in ms; throws for an unknown zone. */
function offsetIn(zone: string): (at: number) => number {
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  return (at) => {
    const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, Number(x.value)]));
    const asUtc = Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
    return asUtc - (at - (at % 1000));
  };
}

/** An instant as the wall clock `offset` ms ahead of UTC reads it, with that offset: 2026-12-04T19:30:00+00:00. */
function rfc3339(at: number, offset: number): string {
  const wall = new Date(at + offset).toISOString().slice(0, 19);
  const m = Math.abs(offset) / 60_000;
  const hh = String(Math.floor(m / 60)).padStart(2, "0");
  const mm = String(m % 60).padStart(2, "0");
  return `${wall}${offset < 0 ? "-" : "+"}${hh}:${mm}`;
}
