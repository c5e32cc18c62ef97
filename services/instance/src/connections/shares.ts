// What people's phones share with the agent in its conversation: each
// ConvosConnections payload kept as whose it is (its sender's), the newest
// of each kind per person, with the parts that tell it is theirs (parts.ts),
// in memory only. Which kinds a person has on is read from what their phone
// sent, never kept as a setting: they can turn a kind off in Convos without
// a word, and the wire is the record (the Convos CLI's SKILL.md,
// "Discovering Enabled Capabilities").

import { type ConnectionPayload, summarizeConnectionPayload } from "@convos-pool/convos";
import { partsOf, sourcesOf, type Parts, type Sources } from "./parts.js";

/** One kind of one person's phone data, as its newest payload said it. */
export interface Piece {
  /** Whose phone sent it: the person it belongs to. */
  from: string;
  kind: string;
  /** Its own one-line summary, as the apps show one. */
  summary: string;
  /** What the phone sent, cut to MAX_DATA_CHARS of JSON for the model. */
  data: string;
  /** What its parts are made from: its texts and coordinates (parts.ts), kept with it. */
  sources: Sources;
  /** The parts that tell it is `from`'s: what must not be repeated to others (labels.ts). */
  parts: Parts;
  capturedAt: Date;
}

/** How much of one payload the model is given. */
export const MAX_DATA_CHARS = 4_000;
/** Kinds a person may have on (ConvosConnections' nine), so that no phone grows the map without bound. */
const MAX_KINDS = 12;
/** People whose phones it keeps: a conversation's members, with some to spare. */
const MAX_PEOPLE = 256;
export class PhoneShares {
  private readonly byPerson = new Map<string, Map<string, Piece>>();

  /** A payload from `from`'s phone: kept as the newest of its kind, unless an older one came late. */
  receive(from: string, payload: ConnectionPayload, capturedAt: Date): Piece | undefined {
    const kind = String(payload.body?.type ?? payload.source);
    const json = JSON.stringify(payload.body?.data ?? null) ?? "null";
    return this.hold({
      from,
      kind,
      summary: summarizeConnectionPayload(payload).slice(0, 200),
      data: json.length > MAX_DATA_CHARS ? `${json.slice(0, MAX_DATA_CHARS)}…` : json,
      sources: sourcesOf(payload.body?.data, isPlain),
      capturedAt,
    });
  }

  /** What `person`'s phone shared, newest kinds first. */
  of(person: string): Piece[] {
    return [...(this.byPerson.get(person)?.values() ?? [])].sort((a, b) => +b.capturedAt - +a.capturedAt);
  }

  /** Every piece held here, everyone's: what every output is screened against (labels.ts). */
  all(): Piece[] {
    return [...this.byPerson.values()].flatMap((m) => [...m.values()]);
  }

  /** Everyone else whose phone shared `kind` here. */
  othersWith(kind: string, person: string): string[] {
    return [...this.byPerson].filter(([who, m]) => who !== person && m.has(kind)).map(([who]) => who);
  }

  /** A member left, or it leaves the conversation: what their phone shared goes. */
  forget(person?: string): void {
    if (person === undefined) this.byPerson.clear();
    else this.byPerson.delete(person);
  }

  private hold(p: Omit<Piece, "parts">): Piece | undefined {
    let mine = this.byPerson.get(p.from);
    if (!mine) {
      if (this.byPerson.size >= MAX_PEOPLE) return undefined;
      mine = new Map();
      this.byPerson.set(p.from, mine);
    }
    const kept = mine.get(p.kind);
    if (kept && kept.capturedAt > p.capturedAt) return undefined;
    if (!kept && mine.size >= MAX_KINDS) return undefined;
    const piece: Piece = { ...p, parts: partsOf(p.sources) };
    mine.set(p.kind, piece);
    return piece;
  }

}

/** Texts that say no more than a time, a zone or an id: what every calendar has, not what is someone's. */
const PLAIN = [
  /^\d{4}-\d{2}-\d{2}([t ][\d:.]+(z|[+-]\d{2}:?\d{2})?)?$/i,
  /^[a-z]+\/[a-z_]+(\/[a-z_]+)?$/i,
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
];
/** A time or a plain number ("15:00", "5.2"); not a phone number, which is someone's (parts.ts). */
const NUMBER = /^[\d\s.:,+-]+$/;

function isPlain(s: string): boolean {
  return PLAIN.some((p) => p.test(s)) || (NUMBER.test(s) && s.replace(/\D/g, "").length < 7);
}
