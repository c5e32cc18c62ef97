// The approval questions the agent asked its owner for each requester other
// than the owner, in the last hour (gate.ts): a member can neither fill the
// owner's conversation with questions nor hold the agent's turns waiting on
// them; and texts from outside, all numbers together, ask at most
// MAX_OUTSIDER_ASKS_PER_HOUR (numbers are cheap: a cap per number alone is
// no cap). Written down (asks.jsonl) as the ledger writes its refusals: a line
// a question, never more than MAX_ASKS_PER_HOUR a requester an hour (a
// refused one is not written), rewritten without what left the hour when it
// grows, and read back when the agent starts, so that a restart does not
// forgive a member who used theirs.

import { readFile } from "node:fs/promises";
import { FILES, type Workspace } from "../../platform/workspace.js";
import { RequesterWindow } from "./requester-window.js";

/**
 * Approval requests made for one requester other than the owner in an hour:
 * a member cannot fill the owner's conversation with questions, nor hold the
 * agent's turns waiting on them (a question waits in its turn).
 */
export const MAX_ASKS_PER_HOUR = 3;
export const ASKS_WINDOW_MS = 60 * 60 * 1000;
/** Approval requests made for texts from outside, all numbers together, in an hour. */
export const MAX_OUTSIDER_ASKS_PER_HOUR = 6;
/** How a requester from outside is named (gate.ts: "<role>:<id>"). */
const OUTSIDER = "outsider:";
/** The key under which questions for all outsiders together are counted. */
const ALL_OUTSIDERS = "outsiders";
/** Lines past which the file is rewritten with the questions still in their hour. */
const COMPACT_AT = 500;

/** One line: a question asked for `requester` ("member:<inbox>") at `at`. */
interface Line {
  requester: string;
  at: string;
}

/** The questions `text` records, oldest first; a line cut short by a crash, or not one, is skipped. Pure. */
export function asksOf(text: string): { requester: string; at: number }[] {
  const asks: { requester: string; at: number }[] = [];
  for (const raw of text.split("\n")) {
    if (!raw) continue;
    try {
      const line = JSON.parse(raw) as Partial<Line>;
      const at = Date.parse(String(line.at));
      if (typeof line.requester === "string" && Number.isFinite(at)) asks.push({ requester: line.requester, at });
    } catch {}
  }
  return asks;
}

export class AskLog {
  private readonly window = new RequesterWindow(MAX_ASKS_PER_HOUR, ASKS_WINDOW_MS);
  private readonly outsiders = new RequesterWindow(MAX_OUTSIDER_ASKS_PER_HOUR, ASKS_WINDOW_MS);
  /** Lines at which it is compacted next: twice what the last compaction kept, at least COMPACT_AT. */
  private compactAt = COMPACT_AT;

  private constructor(
    private readonly ws: Workspace,
    private lines: number,
  ) {}

  static async open(ws: Workspace): Promise<AskLog> {
    let text = "";
    try {
      text = await readFile(ws.path(FILES.asks), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const asks = asksOf(text);
    const log = new AskLog(ws, asks.length);
    for (const a of asks) log.count(a.requester, a.at);
    return log;
  }

  /** Whether another question may be asked for `requester`: within its own hour's, and for an outsider all outsiders'. */
  allows(requester: string, now = Date.now()): boolean {
    if (requester.startsWith(OUTSIDER) && !this.outsiders.allows(ALL_OUTSIDERS, now)) return false;
    return this.window.allows(requester, now);
  }

  /** A question asked for `requester`: counted, and written down before it is asked. */
  async add(requester: string, now = Date.now()): Promise<void> {
    this.count(requester, now);
    await this.ws.append(
      FILES.asks,
      `${JSON.stringify({ requester, at: new Date(now).toISOString() } satisfies Line)}\n`,
    );
    if (++this.lines < this.compactAt) return;
    const kept = this.window
      .entries(now)
      .map(([r, at]) => JSON.stringify({ requester: r, at: new Date(at).toISOString() } satisfies Line));
    await this.ws.writeText(FILES.asks, kept.map((l) => `${l}\n`).join(""));
    this.lines = kept.length;
    this.compactAt = Math.max(COMPACT_AT, 2 * kept.length);
  }

  private count(requester: string, at: number): void {
    this.window.add(requester, at);
    if (requester.startsWith(OUTSIDER)) this.outsiders.add(ALL_OUTSIDERS, at);
  }
}
