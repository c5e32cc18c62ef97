// The agent's one mailbox as a conversation's turn reads it (docs/tools.md,
// "One mailbox, each conversation its threads"): a mail is labelled with
// the conversation it belongs to (policy.ts: that of the mail it answers,
// else the home) and its sender outside, and the walls (walls/labels.ts)
// say whether the turn's reader may read it. A turn in one conversation
// lists and reads that conversation's threads; a doctor's answer to a mail
// sent from one conversation is never read out in another, and a turn for
// someone outside reads no mail at all. Sending is the gate's, as before.

import { readable, type Reader } from "../../walls/labels.js";
import { MailError, type MailMessage, type MailSummary, type Mailbox } from "../providers/mail.js";
import type { IncomingMail } from "./policy.js";

/** How many of the newest mails a listing looks through for its conversation's: others' threads may come between. */
export const LIST_LOOKS_AT = 100;

/** The conversation a mail belongs to: where it is told (policy.ts routeMail, a left one's in the home). */
export type MailPlace = (mail: IncomingMail) => Promise<string>;

/** `inner` as `reader` may read it. */
export function mailboxFor(inner: Mailbox, reader: Reader, placeOf: MailPlace): Mailbox {
  const may = async (m: IncomingMail & { from: string }) =>
    readable({ whose: { outsider: m.from }, where: { conversation: await placeOf(m) }, how: "mail" }, reader);
  return {
    send: (m) => inner.send(m),
    async list(opts: { limit?: number } = {}): Promise<MailSummary[]> {
      const limit = opts.limit ?? 20;
      const out: MailSummary[] = [];
      for (const m of await inner.list({ limit: Math.max(limit, LIST_LOOKS_AT) }))
        if (out.length < limit && (await may(m))) out.push(m);
      return out;
    },
    async read(id: string): Promise<MailMessage> {
      const m = await inner.read(id);
      // Said as for an id it does not hold: whether another conversation has that mail is not this one's to know.
      if (!(await may(m))) throw new MailError(`no message with id ${id}`);
      return m;
    },
    ...(inner.close ? { close: () => inner.close?.() } : {}),
  };
}
