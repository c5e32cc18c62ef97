// The money ledger: what L4's daily limit is counted from. Apart from the
// activity log (which is for reading and is cut when it grows), it holds only
// payments, and nothing younger than 24 hours ever leaves it. A payment is
// written before it is sent (reserved: its amount and the most its network fee
// may cost) and settled after (at the fee it paid), so a crash in between
// counts it as spent rather than forgetting it. Refused attempts are
// counted apart, in a window of their own, and written down too (at most
// MAX_REFUSALS a requester an hour): a flood of them neither resets the limit
// nor buries the owner's activity log, and a restart does not forgive it.

import { readFile } from "node:fs/promises";
import { FILES, type Workspace } from "../../platform/workspace.js";
import { RequesterWindow } from "./requester-window.js";

const LEDGER_FILE = FILES.ledger;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Lines past which the file is rewritten without what is older than a day. */
const COMPACT_AT = 2_000;

/** Refused payment attempts allowed in REFUSALS_WINDOW_MS before further ones are refused at once. */
export const MAX_REFUSALS = 10;
export const REFUSALS_WINDOW_MS = 60 * 60 * 1000;

/**
 * One line: a payment reserved (`feeWei`: the most its gas may cost), then settled (sent or not; `feeWei`: the fee
 * it paid, which a payment the chain reverted paid too); or a refused attempt. Lines without `feeWei` count no fee.
 */
type Line =
  | { kind: "reserved"; id: string; at: string; amountWei: string; feeWei?: string; to: string }
  | { kind: "settled"; id: string; at: string; sent: boolean; feeWei?: string }
  | { kind: "refused"; requester: string; at: string };

export interface Payment {
  at: number;
  amountWei: bigint;
  /** Its network fee: at most this while it is reserved, what it paid once settled. */
  feeWei: bigint;
  to: string;
  /** Its amount counts: reserved and not settled as not sent. */
  counts: boolean;
}

/** A whole number of wei as a line writes it; anything else is none. */
const weiOf = (s: string | undefined): bigint | undefined =>
  s !== undefined && /^\d+$/.test(s) ? BigInt(s) : undefined;

/** The ledger's lines that parse; a line cut short by a crash is skipped. */
function linesOf(text: string): Line[] {
  const lines: Line[] = [];
  for (const raw of text.split("\n")) {
    if (!raw) continue;
    try {
      lines.push(JSON.parse(raw) as Line);
    } catch {}
  }
  return lines;
}

/** `p` settled: sent or not, at the fee it paid (none given: a payment sent keeps its reserve, one not sent paid none). */
function settled(p: Payment, sent: boolean, feeWei: bigint | undefined): void {
  if (!sent) p.counts = false;
  p.feeWei = feeWei ?? (sent ? p.feeWei : 0n);
}

/** What the ledger's lines say of payments, from its text. */
export function paymentsOf(text: string): Map<string, Payment> {
  const payments = new Map<string, Payment>();
  for (const line of linesOf(text)) {
    const amountWei = line.kind === "reserved" ? weiOf(line.amountWei) : undefined;
    if (line.kind === "reserved" && amountWei !== undefined)
      payments.set(line.id, {
        at: Date.parse(line.at),
        amountWei,
        feeWei: weiOf(line.feeWei) ?? 0n,
        to: line.to,
        counts: true,
      });
    else if (line.kind === "settled") {
      const p = payments.get(line.id);
      if (p) settled(p, line.sent, weiOf(line.feeWei));
    }
  }
  return payments;
}

/** The refused attempts the ledger's text records, oldest first. */
export function refusalsOf(text: string): { requester: string; at: number }[] {
  return linesOf(text)
    .filter((l) => l.kind === "refused" && typeof l.requester === "string")
    .map((l) => ({ requester: (l as { requester: string }).requester, at: Date.parse(l.at) }))
    .filter((r) => Number.isFinite(r.at));
}

/** Wei reserved or sent in the 24 hours before `now`, network fees included. */
export function spentWithin(payments: Iterable<Payment>, now: number): bigint {
  let sum = 0n;
  for (const p of payments) if (p.at > now - DAY_MS) sum += (p.counts ? p.amountWei : 0n) + p.feeWei;
  return sum;
}

export class MoneyLedger {
  /** Refused payment attempts in their window, by requester. */
  private readonly refusals = new RequesterWindow(MAX_REFUSALS, REFUSALS_WINDOW_MS);
  /** Lines at which it is compacted next: twice what the last compaction kept, at least COMPACT_AT. */
  private compactAt: number;

  private constructor(
    private readonly ws: Workspace,
    private readonly payments: Map<string, Payment>,
    private lines: number,
    /** The least number of lines that starts a compaction (COMPACT_AT; tests reach it sooner). */
    private readonly compactFloor: number,
  ) {
    this.compactAt = compactFloor;
  }

  static async open(ws: Workspace, { compactAt = COMPACT_AT } = {}): Promise<MoneyLedger> {
    let text = "";
    try {
      text = await readFile(ws.path(LEDGER_FILE), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const ledger = new MoneyLedger(ws, paymentsOf(text), text.split("\n").filter(Boolean).length, compactAt);
    for (const r of refusalsOf(text)) ledger.refusals.add(r.requester, r.at);
    return ledger;
  }

  /** Wei reserved or sent in the last 24 hours, network fees included. */
  spentWei(now = Date.now()): bigint {
    return spentWithin(this.payments.values(), now);
  }

  /**
   * Written down before the payment is sent, with the most its network fee may cost: from here on both count,
   * whatever happens to this process.
   */
  async reserve(id: string, p: { amountWei: bigint; feeWei?: bigint; to: string }, now = new Date()): Promise<void> {
    const feeWei = p.feeWei ?? 0n;
    await this.append({
      kind: "reserved",
      id,
      at: now.toISOString(),
      amountWei: p.amountWei.toString(),
      feeWei: feeWei.toString(),
      to: p.to,
    });
    this.payments.set(id, { at: now.getTime(), amountWei: p.amountWei, feeWei, to: p.to, counts: true });
  }

  /**
   * The payment went out, or surely did not (then its amount no longer counts), at the fee it paid (`feeWei`: a
   * payment the chain reverted paid one too; none given: one sent keeps its reserved fee, one not sent paid none).
   */
  async settle(id: string, outcome: { sent: boolean; feeWei?: bigint }, now = new Date()): Promise<void> {
    const { sent, feeWei } = outcome;
    await this.append({
      kind: "settled",
      id,
      at: now.toISOString(),
      sent,
      ...(feeWei !== undefined && { feeWei: feeWei.toString() }),
    });
    const p = this.payments.get(id);
    if (p) settled(p, sent, feeWei);
    await this.compact(now.getTime());
  }

  /**
   * A refused payment attempt of `requester`, counted. Written down while it still counts towards the limit, so
   * that a restart keeps the limit; past it, a flood is counted in memory only and does not grow the file.
   */
  async refused(requester: string, now = Date.now()): Promise<void> {
    const written = this.refusals.allows(requester, now);
    this.refusals.add(requester, now);
    if (!written) return;
    await this.append({ kind: "refused", requester, at: new Date(now).toISOString() });
    await this.compact(now);
  }

  /** Whether `requester` may try a payment at all, or their refusals came too fast. */
  mayTry(requester: string, now = Date.now()): boolean {
    return this.refusals.allows(requester, now);
  }

  private async append(line: Line): Promise<void> {
    await this.ws.append(LEDGER_FILE, `${JSON.stringify(line)}\n`);
    this.lines++;
  }

  /** Past COMPACT_AT lines, rewritten with the payments younger than a day (settled as they were) and the refusals still in their window. */
  private async compact(now: number): Promise<void> {
    if (this.lines < this.compactAt) return;
    const kept: Line[] = this.refusals
      .entries(now)
      .map(([requester, at]) => ({ kind: "refused" as const, requester, at: new Date(at).toISOString() }));
    for (const [id, p] of this.payments) {
      if (p.at <= now - DAY_MS) {
        this.payments.delete(id);
        continue;
      }
      const at = new Date(p.at).toISOString();
      const feeWei = p.feeWei.toString();
      kept.push({ kind: "reserved", id, at, amountWei: p.amountWei.toString(), feeWei, to: p.to });
      if (!p.counts) kept.push({ kind: "settled", id, at, sent: false, feeWei });
    }
    await this.ws.writeText(LEDGER_FILE, kept.map((l) => `${JSON.stringify(l)}\n`).join(""));
    this.lines = kept.length;
    this.compactAt = Math.max(this.compactFloor, 2 * kept.length);
  }

  /** A new claim starts a new ledger. */
  async clear(): Promise<void> {
    this.payments.clear();
    this.refusals.clear();
    this.lines = 0;
    this.compactAt = this.compactFloor;
    await this.ws.remove(LEDGER_FILE);
  }
}
