// "What it knows" on an agent's page: its memory, each entry with who taught
// it (role and inbox, or the parent it was inherited from) and in which
// conversation (docs/memory.md, "Provenance"). The owner signs ListMemory
// over a one-time X25519 key made here; the agent checks the signature and
// seals the entries to that key, so the pool relays them without reading
// them, and they are opened in this page only. Asked for, not loaded with the
// page: each listing is a signature. Imported entries are listed apart:
// nobody's word unless they came from the owner's own export.
import { useMutation } from "@connectrpc/connect-query";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import { openSealed, x25519KeyPair } from "@convos-pool/kit/browser";
import { useState } from "react";
import { bytesToHex } from "viem";
import { IMPORTED_NOTE, byOrigin, learnedWhere, taughtBy, type ListedEntry } from "../memory-provenance";
import { useSession } from "../session";
import { Empty, ErrorBox, Notice } from "../ui";
import { useAction } from "./use-action";

export function MemoryList({ instanceId }: { instanceId: string }) {
  const { sign, inboxId } = useSession();
  const act = useAction();
  const list = useMutation(AgentMemoryService.method.listMemory);
  const [entries, setEntries] = useState<ListedEntry[]>();
  const groups = entries && byOrigin(entries);

  return (
    <section aria-labelledby="memory-heading">
      <h2 id="memory-heading">What it knows</h2>
      <p>
        What it learned, and from whom: you, another member of its conversation, or whoever texted it. A member's
        version of what someone else taught stays theirs until you say it yourself.
      </p>
      <button
        type="button"
        disabled={!!act.busy}
        onClick={() =>
          void act.run("memory", "", async () => {
            const mine = x25519KeyPair();
            const recipientKey = bytesToHex(mine.publicKey);
            const ownerSignature = await sign("ListMemory", { instanceId, recipientKey, feedbackOnly: false });
            const { sealed } = await list.mutateAsync({
              instanceId,
              recipientKey: mine.publicKey,
              feedbackOnly: false,
              ownerSignature,
            });
            if (!sealed) throw new Error("the agent sent nothing to open");
            const opened = await openSealed(mine.privateKey, sealed);
            setEntries((JSON.parse(new TextDecoder().decode(opened)) as { entries: ListedEntry[] }).entries);
          })
        }
      >
        {act.busy ? "Asking it…" : entries ? "Sign and show again" : "Sign and show what it knows"}
      </button>
      <ErrorBox error={act.error} />
      {entries?.length === 0 && <Empty>It has learned nothing yet.</Empty>}
      {entries && entries.length > 0 && (
        <>
          <Notice>
            {entries.length} entr{entries.length === 1 ? "y" : "ies"}, opened in this page only.
          </Notice>
          {groups && groups.learned.length > 0 && (
            <ol className="activity" aria-label="What it knows">
              {groups.learned.map((e) => (
                <Entry key={e.id} e={e} viewer={inboxId} testId="memory-entry" />
              ))}
            </ol>
          )}
          {groups && groups.imported.length > 0 && (
            <>
              <h3 id="memory-imported-heading">Imported</h3>
              <p data-testid="memory-imported-note">{IMPORTED_NOTE}</p>
              <ol className="activity" aria-labelledby="memory-imported-heading">
                {groups.imported.map((e) => (
                  <Entry key={e.id} e={e} viewer={inboxId} testId="memory-imported" />
                ))}
              </ol>
            </>
          )}
        </>
      )}
    </section>
  );
}

/** One entry: its kind and text, who taught it and where. */
function Entry({ e, viewer, testId }: { e: ListedEntry; viewer: string | undefined; testId: string }) {
  const where = learnedWhere(e);
  return (
    <li data-testid={testId}>
      <strong>{e.kind}</strong> · {e.text}
      <p className="meta" data-testid="memory-taught-by" title={e.from}>
        {taughtBy(e, viewer)}
        {where && ` · ${where}`}
      </p>
    </li>
  );
}
