// Sign in with Convos, the pure part (docs/signatures.md, "Sign in with
// Convos"): what a code is, how a sent text is read as one, what the pool
// does with a code that arrives, what a collect answers, and the name a
// join request's profile gives. No I/O, no clock of its own: the caller
// passes `now`.

import { cleanDisplayName } from "@convos-pool/kit/content";

/** Crockford's base 32: no I, L, O or U, so that what is read aloud or retyped survives. */
export const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** Ten characters: 50 bits, against guessing by inboxes that send codes (limited per inbox). */
export const CODE_LENGTH = 10;
/** How long a code waits to be sent: long enough to open the app, short enough to be worth little when seen. */
export const CODE_TTL_SECONDS = 5 * 60;
/** How long a sent code waits to be collected by the page that asked for it. */
export const COLLECT_TTL_SECONDS = 2 * 60;

/** A code from CODE_LENGTH random bytes (each keeps 5 bits: 256 is a multiple of 32, so none is favoured). */
export function codeFrom(random: Uint8Array): string {
  if (random.length < CODE_LENGTH) throw new Error(`a code needs ${CODE_LENGTH} random bytes`);
  let out = "";
  for (let i = 0; i < CODE_LENGTH; i++) out += CODE_ALPHABET[(random[i] as number) & 31];
  return out;
}

/** As people see it: XXXXX-XXXXX. */
export function formatCode(code: string): string {
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/**
 * The code in what someone typed or sent, or undefined when it is not one:
 * spaces and dashes dropped, any case, and Crockford's look-alikes read as
 * the digits they stand for (I and L as 1, O as 0).
 */
export function readCode(text: string): string | undefined {
  const t = text.replace(/[\s-]/g, "").toUpperCase().replace(/[IL]/g, "1").replace(/O/g, "0");
  if (t.length !== CODE_LENGTH) return undefined;
  for (const ch of t) if (!CODE_ALPHABET.includes(ch)) return undefined;
  return t;
}

/** A started sign-in as stored. */
export interface PendingSignIn {
  origin: string;
  expiresAt: Date;
  /** The inbox that sent the code, once one did. */
  senderInboxId: string | null;
  sentAt: Date | null;
  collectedAt: Date | null;
}

/** What the pool does with a code that arrives from `sender`. */
export type Arrival =
  | { kind: "claim"; origin: string }
  | { kind: "again"; origin: string }
  | { kind: "unknown" }
  | { kind: "expired" }
  | { kind: "taken" };

/**
 * A code that arrives: the first inbox to send a live code gets it; the same
 * inbox again changes nothing; anyone after it is told the code is spent
 * (and the page shows whose inbox signed in, so the person who asked notices).
 */
export function onArrival(row: PendingSignIn | undefined, sender: string, now: Date): Arrival {
  if (!row) return { kind: "unknown" };
  if (row.senderInboxId === sender) return { kind: "again", origin: row.origin };
  if (row.senderInboxId !== null) return { kind: "taken" };
  if (row.expiresAt <= now) return { kind: "expired" };
  return { kind: "claim", origin: row.origin };
}

/** The pool's answer in the DM: which site asked, so that a person sent there by someone else's page can see it. */
export function replyTo(arrival: Arrival, code: string): string | undefined {
  const shown = formatCode(code);
  switch (arrival.kind) {
    case "claim":
      return (
        `You are signing in to ${arrival.origin} with this Convos identity (code ${shown}). ` +
        `If you did not ask for this code on ${arrival.origin} yourself, whoever did is now signed in as you there ` +
        `(for up to an hour): do not send codes that another site shows you.`
      );
    case "again":
      return undefined;
    case "unknown":
      return `The code ${shown} is not one this pool is waiting for: it may be mistyped. Ask the sign-in page for a new one.`;
    case "expired":
      return `The code ${shown} has expired. Ask the sign-in page for a new one.`;
    case "taken":
      return `The code ${shown} was already sent from another Convos identity. Ask the sign-in page for a new one.`;
  }
}

/** What a collect answers (the secret already matched; a wrong one is answered as an unknown code). */
export type Collect =
  | { kind: "waiting" }
  | { kind: "issue"; inboxId: string }
  | { kind: "expired"; at: Date }
  | { kind: "used" };

export function onCollect(row: PendingSignIn, now: Date): Collect {
  if (row.collectedAt !== null) return { kind: "used" };
  if (row.senderInboxId === null || row.sentAt === null) {
    return row.expiresAt <= now ? { kind: "expired", at: row.expiresAt } : { kind: "waiting" };
  }
  const collectBy = new Date(row.sentAt.getTime() + COLLECT_TTL_SECONDS * 1000);
  if (collectBy <= now) return { kind: "expired", at: collectBy };
  return { kind: "issue", inboxId: row.senderInboxId };
}

/**
 * What a Convos join request (`convos.org/join_request:1.0`, decoded from
 * its JSON) brings: the slug it carries, read as a text is, and the name of
 * the profile it gives, the sender's own word, cleaned to one line ("" when
 * none); undefined for anything else.
 */
export function readJoinRequest(content: unknown): { text: string; name: string } | undefined {
  const r = content as { inviteSlug?: unknown; profile?: { name?: unknown } } | null | undefined;
  if (!r || typeof r !== "object" || typeof r.inviteSlug !== "string") return undefined;
  const name = typeof r.profile?.name === "string" ? cleanDisplayName(r.profile.name) : "";
  return { text: r.inviteSlug, name };
}
