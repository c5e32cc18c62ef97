// The sessions an OpenClaw gateway keeps for one agent, as the pool knows
// them: one for each reader (walls/labels.ts sessionOf: a person's turns in
// one conversation, the owner's apart; each number outside in each
// conversation; a clone's summary alone), never one for the agent. For each it keeps
// how far into its conversation the session has been told (the newest line
// given to it) and its own last answers, so that a turn tells a session what
// was said since, its own answers aside, and a session new to the gateway
// (a new state, a spare taken) the recent conversation. Kept beside the
// gateway's session store (`pool-sessions.json` in its state folder), which
// it follows: a new store, no marks.

import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { HistoryLine } from "../model/turn.js";

/** What a session was told: the newest line's time (ms since the epoch), and its own latest answers. */
export interface SessionMark {
  at: number;
  answers: string[];
}

/** Answers remembered per session: more than a turn's lines can hold of its own. */
const ANSWERS_KEPT = 20;
/** Sessions remembered: a conversation's people, with some to spare; the least recent go first. */
const SESSIONS_KEPT = 500;

/**
 * The lines of `history` that a session marked `mark` has not been told:
 * all of them when it is new to the gateway; else those after its mark, but
 * its own answers (another session's answers in the same conversation are
 * news to it).
 */
export function untold(history: readonly HistoryLine[], mark: SessionMark | undefined): HistoryLine[] {
  if (!mark) return [...history];
  const own = new Set(mark.answers);
  return history.filter(
    (h) => (h.at === undefined || h.at > mark.at) && !(h.role === "assistant" && own.has(h.text.trim())),
  );
}

/** The mark after a turn that told `history` and answered `answer`. */
export function marked(before: SessionMark | undefined, history: readonly HistoryLine[], answer: string): SessionMark {
  const at = Math.max(before?.at ?? 0, ...history.map((h) => h.at ?? 0));
  return { at, answers: [...(before?.answers ?? []), answer.trim()].slice(-ANSWERS_KEPT) };
}

export class SessionMarks {
  private marks = new Map<string, SessionMark>();

  constructor(private readonly stateDir: string) {}

  private get file(): string {
    return join(this.stateDir, "pool-sessions.json");
  }

  get(session: string): SessionMark | undefined {
    return this.marks.get(session);
  }

  /** Read back at a start that keeps its session store; a file that cannot be read is no marks (every session retold). */
  async load(): Promise<void> {
    const raw = await readFile(this.file, "utf8").catch(() => "{}");
    try {
      const parsed = JSON.parse(raw) as Record<string, SessionMark>;
      this.marks = new Map(
        Object.entries(parsed).filter(([, m]) => Number.isFinite(m?.at) && Array.isArray(m?.answers)),
      );
    } catch {
      this.marks = new Map();
    }
  }

  /** A new session store: no session was told anything. */
  async clear(): Promise<void> {
    this.marks = new Map();
    await rm(this.file, { force: true });
  }

  async set(session: string, mark: SessionMark): Promise<void> {
    this.marks.delete(session);
    this.marks.set(session, mark);
    while (this.marks.size > SESSIONS_KEPT) this.marks.delete(this.marks.keys().next().value as string);
    await writeFile(`${this.file}.tmp`, JSON.stringify(Object.fromEntries(this.marks)), { mode: 0o600 });
    await rename(`${this.file}.tmp`, this.file);
  }
}
