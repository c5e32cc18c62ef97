// The local phones: people's numbers outside the pool, each with the texts
// it received, which tests and people read, wait for and answer from.
import { Waiters } from "../waiters.js";

/** A text as a local phone received it. */
export interface LocalText {
  from: string;
  to: string;
  text: string;
  /** When it arrived, ISO 8601. */
  at: string;
}

/** A phone outside the pool (a person's), for tests and people: not part of Telnyx's API. */
export interface LocalPhone {
  readonly number: string;
  /** Sends as this number, delivered exactly like a text sent through the API. */
  send(to: string, text: string): Promise<void>;
  /** What this phone received, oldest first. */
  messages(): readonly LocalText[];
  /** The first text received (already, or within `ms`) that `pred` accepts. */
  waitForMessage(pred?: (m: LocalText) => boolean, ms?: number): Promise<LocalText>;
}

/** What one phone received, oldest first, and who waits for a text. */
export class Inbox {
  readonly texts: LocalText[] = [];
  private readonly waiters = new Waiters<LocalText>();

  constructor(readonly number: string) {}

  receive(text: LocalText): void {
    this.texts.push(text);
    this.waiters.offer(text);
  }

  waitFor(pred: (m: LocalText) => boolean, ms: number): Promise<LocalText> {
    const found = this.texts.find(pred);
    if (found) return Promise.resolve(found);
    return this.waiters.wait(pred, ms, {
      timedOut: `no matching text reached ${this.number} within ${ms} ms`,
      closed: `the local SMS server closed before a matching text reached ${this.number}`,
    });
  }

  close(): void {
    this.waiters.close();
  }
}
