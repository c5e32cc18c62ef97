// What people's phones share with the agent in one of its conversations: each
// ConvosConnections payload kept as whose it is (its sender's), the newest
// of each kind per person, with the parts that tell it is theirs (parts.ts);
// and whose phones have spoken here at all. Which kinds a person has on is
// read from what their phone sent, never kept as a setting: they can turn a
// kind off in Convos without a word, and the wire is the record (the Convos
// CLI's SKILL.md, "Discovering Enabled Capabilities"). What it holds is kept
// across restarts in the conversation's folder, sealed (kept.ts), through
// `KeepPhones`; here it is only held and shaped.

import { type ConnectionPayload, summarizeConnectionPayload } from "@convos-pool/convos";
import { MAX_TEXT_CHARS, partsOf, sourcesOf, type Parts, type Sources } from "./parts.js";

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
/** What of a conversation's pieces is kept across a restart, as JSON: the newest pieces that fit. The agent's sealed state holds every conversation's (platform/vault.ts). */
export const MAX_KEPT_CHARS = 32_000;

/** What a phone sends, by content type: any of them shows that its sender has a phone here. */
export const FROM_PHONES: ReadonlySet<string> = new Set([
  "connection_payload",
  "connection_invocation_result",
  "capability_request_result",
  "connection_event",
]);

/** A conversation's phones as kept across restarts (phones.json, kept.ts). */
export interface KeptPhones {
  v: 1;
  /** Whose phones spoke here, and when last (ISO). */
  phones: Record<string, string>;
  /** The newest pieces, newest first, as many as fit MAX_KEPT_CHARS. */
  pieces: KeptPiece[];
}

interface KeptPiece {
  from: string;
  kind: string;
  summary: string;
  data: string;
  texts: string[];
  coords: number[];
  capturedAt: string;
}

/** Where a conversation's phones are kept: read once it listens there, written after each change. */
export interface KeepPhones {
  read(): Promise<KeptPhones | undefined>;
  /** Never throws: a failure is logged (kept.ts). */
  write(kept: KeptPhones): Promise<void>;
}

export class PhoneShares {
  private readonly byPerson = new Map<string, Map<string, Piece>>();
  /** Whose phones spoke here, and when last. */
  private readonly heard = new Map<string, Date>();
  private saving: Promise<void> = Promise.resolve();
  private queued = false;

  constructor(private readonly keep?: KeepPhones) {}

  /** A payload from `from`'s phone: kept as the newest of its kind, unless an older one came late. */
  receive(from: string, payload: ConnectionPayload, capturedAt: Date): Piece | undefined {
    this.heardFrom(from, "connection_payload", capturedAt);
    const kind = String(payload.body?.type ?? payload.source);
    const json = JSON.stringify(payload.body?.data ?? null) ?? "null";
    const piece = this.hold({
      from,
      kind,
      summary: summarizeConnectionPayload(payload).slice(0, 200),
      data: json.length > MAX_DATA_CHARS ? `${json.slice(0, MAX_DATA_CHARS)}…` : json,
      sources: sourcesOf(payload.body?.data, isPlain),
      capturedAt,
    });
    if (piece) this.save();
    return piece;
  }

  /** Something of type `type` came from `from` (a member, not the agent): when it is what a phone sends, `from` has a phone here. */
  heardFrom(from: string, type: string, at: Date): void {
    if (!FROM_PHONES.has(type)) return;
    const was = this.heard.get(from);
    if (!was && this.heard.size >= MAX_PEOPLE) return;
    if (!was || was < at) this.heard.set(from, at);
    if (!was) this.save();
  }

  /** Whose phones have spoken here: a payload, an answer, a pick or a connection event (reach.ts). */
  withPhones(): string[] {
    return [...this.heard.keys()];
  }

  /** What `person`'s phone shared, newest kinds first. */
  of(person: string): Piece[] {
    return [...(this.byPerson.get(person)?.values() ?? [])].sort((a, b) => +b.capturedAt - +a.capturedAt);
  }

  /** Every piece held here, everyone's: what every output is screened against (labels.ts). */
  all(): Piece[] {
    return [...this.byPerson.values()].flatMap((m) => [...m.values()]);
  }

  /** A member left, or it leaves the conversation: what their phone shared goes. */
  forget(person?: string): void {
    if (person === undefined) {
      this.byPerson.clear();
      this.heard.clear();
    } else {
      this.byPerson.delete(person);
      this.heard.delete(person);
    }
    this.save();
  }

  /** What was kept here before a restart, under what came since (the newer of each kind stands). */
  async restore(): Promise<void> {
    const kept = await this.keep?.read();
    if (!kept) return;
    for (const [who, iso] of Object.entries(kept.phones)) {
      const at = new Date(iso);
      const was = this.heard.get(who);
      if ((was || this.heard.size < MAX_PEOPLE) && !(was && was > at)) this.heard.set(who, at);
    }
    for (const p of kept.pieces)
      this.hold({ ...p, sources: { texts: p.texts, coords: p.coords }, capturedAt: new Date(p.capturedAt) });
  }

  /** What is kept across a restart: whose phones spoke, and the newest pieces that fit MAX_KEPT_CHARS. Pure. */
  kept(): KeptPhones {
    const pieces: KeptPiece[] = [];
    let chars = 0;
    for (const p of this.all().sort((a, b) => +b.capturedAt - +a.capturedAt)) {
      const k: KeptPiece = {
        from: p.from,
        kind: p.kind,
        summary: p.summary,
        data: p.data,
        texts: [...p.sources.texts],
        coords: [...p.sources.coords],
        capturedAt: p.capturedAt.toISOString(),
      };
      const size = JSON.stringify(k).length;
      if (chars + size > MAX_KEPT_CHARS) continue;
      chars += size;
      pieces.push(k);
    }
    return {
      v: 1,
      phones: Object.fromEntries([...this.heard].map(([who, at]) => [who, at.toISOString()])),
      pieces,
    };
  }

  /** Once what it holds now is written (tests, and before a conversation's folder goes). */
  settled(): Promise<void> {
    return this.saving;
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

  /** Writes what it holds once the write before is done; changes meanwhile ride on the one queued. */
  private save(): void {
    const keep = this.keep;
    if (!keep || this.queued) return;
    this.queued = true;
    this.saving = this.saving.then(() => {
      this.queued = false;
      return keep.write(this.kept());
    });
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

/** A kept file's content, when it is one (a file of another version, or damaged, is not). Pure. */
export function keptOf(v: unknown): KeptPhones | undefined {
  const k = v as Partial<KeptPhones> | undefined;
  if (k?.v !== 1 || typeof k.phones !== "object" || k.phones === null || !Array.isArray(k.pieces)) return undefined;
  const str = (x: unknown) => typeof x === "string";
  const pieces = k.pieces.filter(
    (p) =>
      [p?.from, p?.kind, p?.summary, p?.data, p?.capturedAt].every(str) &&
      Array.isArray(p.texts) &&
      p.texts.every(str) &&
      p.texts.join("").length <= MAX_TEXT_CHARS &&
      Array.isArray(p.coords) &&
      p.coords.every((c) => typeof c === "number"),
  );
  const phones = Object.fromEntries(Object.entries(k.phones).filter(([, at]) => str(at)));
  return { v: 1, phones, pieces };
}
