// Where what people's phones shared in one conversation is kept across
// restarts (docs/connections.md, "What a phone shares"): phones.json in the
// conversation's folder (platform/workspace.ts), sealed under a key of the
// agent's for it (platform/keys.ts `phonesKey`), with associated data that
// names the conversation, so that it opens neither as another agent's nor
// in another conversation's folder. It is those people's data: it goes with
// the conversation's folder when the agent leaves or is released, and it
// leaves the host only inside the agent's sealed state (platform/vault.ts).

import type { Logger } from "@convos-pool/kit/server";
import { conversationFile, type Workspace } from "../platform/workspace.js";
import { keptOf, type KeepPhones } from "./shares.js";

/** Its conversation's phones.json, read and written sealed; nothing while it is in no conversation or has no key yet. */
export function keptIn(
  ws: Workspace,
  at: { conversationId(): string | undefined; key(): Uint8Array | undefined; log: Logger },
): KeepPhones {
  const where = () => {
    const id = at.conversationId();
    const key = at.key();
    return id && key ? { name: conversationFile(id, "phones"), purpose: `phones:${id}`, key } : undefined;
  };
  return {
    async read() {
      const w = where();
      if (!w) return undefined;
      try {
        return keptOf(await ws.readSealed<unknown>(w.name, w.purpose, w.key));
      } catch (err) {
        at.log.warn("what phones shared here could not be read back: the agent goes on without it", { err });
        return undefined;
      }
    },
    async write(kept) {
      const w = where();
      if (!w) return;
      try {
        await ws.writeSealed(w.name, w.purpose, w.key, kept);
      } catch (err) {
        at.log.warn("what phones shared here could not be kept", { err });
      }
    },
  };
}
