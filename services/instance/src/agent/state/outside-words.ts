// Its own messages that carry words from outside the conversation: a text
// passed on, a mail's subject announced, what a turn said after it read a
// mail. Anyone outside can write those words, so in later turns they are
// shown to the model as the outsider's (policy.ts historyLines), never as its
// own, and a turn that reads one asks its owner before it acts (tools/gate/gate.ts).
// Kept in its conversation's folder (conversation/files.ts) and read from the
// workspace on each use: a Release wipes the file with the claim.

import { conversationFile, type Workspace } from "../../platform/workspace.js";

/** Ids kept: far more than a turn's history reads. */
export const OUTSIDE_WORDS_KEPT = 200;

/** `ids` with `id` added at the end, the oldest past `kept` dropped. Pure. */
export function withOutside(ids: readonly string[], id: string, kept = OUTSIDE_WORDS_KEPT): string[] {
  return [...ids.filter((x) => x !== id), id].slice(-kept);
}

export class OutsideWords {
  constructor(
    private readonly ws: Workspace,
    /** The conversation its messages are in: its home (none: in no conversation, where it says nothing). */
    private readonly conversationId: () => string | undefined,
  ) {}

  /** The ids of its messages that carry outside words. */
  async ids(): Promise<ReadonlySet<string>> {
    return new Set(await this.read());
  }

  /** `id` (a message it just sent; none when nothing was sent) carries outside words. */
  async add(id: string | undefined): Promise<void> {
    const conversationId = this.conversationId();
    if (!id || !conversationId) return;
    await this.ws.writeJson(conversationFile(conversationId, "outside-words"), withOutside(await this.read(), id));
  }

  private async read(): Promise<string[]> {
    const conversationId = this.conversationId();
    if (!conversationId) return [];
    const ids = await this.ws.readJson<unknown>(conversationFile(conversationId, "outside-words"));
    return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === "string") : [];
  }
}
