// "What it knows" on an agent's page: its memory, each entry with who taught
// it (role and name, or inbox, or the parent it was inherited from) and in which
// conversation (docs/memory.md, "Provenance"). The owner signs ListMemory
// over a one-time X25519 key made here; the agent checks the signature and
// seals the entries to that key, so the pool relays them without reading
// them, and they are opened in this page only. Signed in with Convos alone,
// the owner confirms that one listing, to that key, in Convos instead
// (confirm-in-convos.tsx). Asked for, not loaded with the page: each listing
// is a signature or a confirmation. Imported entries are listed apart:
// nobody's word unless they came from the owner's own export. Each entry says
// where it is read (the conversation named as the agent's Conversations
// section names it, memory-scope.ts); one the owner may share has an
// "In all my conversations" toggle, a signed ShareMemory the agent checks.
import { useMutation } from "@connectrpc/connect-query";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { openSealed, x25519KeyPair } from "@convos-pool/kit/browser";
import { useState } from "react";
import { bytesToHex } from "viem";
import {
  IMPORTED_NOTE,
  byOrigin,
  learnedWhere,
  taughtBy,
  type ListedEntry,
  type TeacherNames,
} from "./memory-provenance";
import { conversationLabel, reachOf, reachWords, withShared } from "./memory-scope";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Notice } from "../ui/ui";
import { useAction } from "../ui/use-action";
import { ConfirmInConvos, useConvosConfirm } from "./confirm-in-convos";

/** The step put to the owner in Convos, in the page's words. */
const SHOW_WORDS = "show everything it knows, and who taught it, on this page, once";

/** What an entry needs of the page: who looks, how conversations are named, and the toggle's act. */
interface EntryContext {
  viewer: string | undefined;
  /** What the agent knows its teachers by, where they taught (sealed with the listing). */
  names: TeacherNames;
  home: string;
  label: (conversationId: string) => string;
  act: ReturnType<typeof useAction>;
  share: (e: ListedEntry, share: boolean) => void;
}

export function MemoryList({ agent: i }: { agent: Instance }) {
  const instanceId = i.id;
  const { sign, inboxId, canSign } = useSession();
  const act = useAction();
  const { confirm, waiting } = useConvosConfirm();
  const list = useMutation(AgentMemoryService.method.listMemory);
  const shareMemory = useMutation(AgentMemoryService.method.shareMemory);
  const [entries, setEntries] = useState<ListedEntry[]>();
  const [names, setNames] = useState<TeacherNames>({});
  const groups = entries && byOrigin(entries);
  const context: EntryContext = {
    viewer: inboxId,
    names,
    home: i.conversations.find((c) => c.home)?.conversationId || i.conversationId,
    label: (id) =>
      conversationLabel(id, i.conversations, { conversationId: i.conversationId, name: i.conversationName }),
    act,
    share: (e, share) =>
      void act.run(`share:${e.id}`, "", async () => {
        const entryIds = [e.id];
        // The ids joined by ",", in the order sent (kit's shareMemoryFields): what the agent checks.
        const ownerSignature = await sign("ShareMemory", { instanceId, entryIds: entryIds.join(","), share });
        const { notFound } = await shareMemory.mutateAsync({ instanceId, entryIds, share, ownerSignature });
        if (notFound.includes(e.id)) throw new Error("It no longer knows this entry: show what it knows again.");
        setEntries((now) => now?.map((x) => (x.id === e.id ? withShared(x, share) : x)));
      }),
  };

  return (
    <section aria-labelledby="memory-heading">
      <h2 id="memory-heading">What it knows</h2>
      <p>
        What it learned, and from whom: you, another member of its conversation, or whoever texted it. A member's
        version of what someone else taught stays theirs until you say it yourself.
      </p>
      <p>
        What you teach it is known in all its conversations; what members teach it, only in the conversation they said
        it in, unless you share it there with "In all my conversations" (a clone carries it then too).
      </p>
      <button
        type="button"
        disabled={!!act.busy}
        onClick={() =>
          void act.run("memory", "", async () => {
            const mine = x25519KeyPair();
            const recipientKey = bytesToHex(mine.publicKey);
            // Signed in with Convos alone: the owner confirms this one listing, sealed to this page's key, in Convos.
            const { sealed } = canSign
              ? await list.mutateAsync({
                  instanceId,
                  recipientKey: mine.publicKey,
                  feedbackOnly: false,
                  ownerSignature: await sign("ListMemory", { instanceId, recipientKey, feedbackOnly: false }),
                })
              : await confirm(instanceId, { kind: "list_memory", recipientKey, feedbackOnly: false }, SHOW_WORDS);
            if (!sealed) throw new Error("the agent sent nothing to open");
            const opened = await openSealed(mine.privateKey, sealed);
            const listing = JSON.parse(new TextDecoder().decode(opened)) as {
              entries: ListedEntry[];
              names?: TeacherNames;
            };
            setNames(listing.names ?? {});
            setEntries(listing.entries);
          })
        }
      >
        {act.busy === "memory"
          ? canSign
            ? "Asking it…"
            : "Waiting for Convos…"
          : `${canSign ? "Sign" : "Confirm in Convos"} and show ${entries ? "again" : "what it knows"}`}
      </button>
      <ConfirmInConvos waiting={waiting} />
      <ErrorBox error={act.errorOf("memory")} />
      {entries?.length === 0 && <Empty>It has learned nothing yet.</Empty>}
      {entries && entries.length > 0 && (
        <>
          <Notice>
            {entries.length} entr{entries.length === 1 ? "y" : "ies"}, opened in this page only.
          </Notice>
          {groups && groups.learned.length > 0 && (
            <ol className="activity" aria-label="What it knows">
              {groups.learned.map((e) => (
                <Entry key={e.id} e={e} context={context} testId="memory-entry" />
              ))}
            </ol>
          )}
          {groups && groups.imported.length > 0 && (
            <>
              <h3 id="memory-imported-heading">Imported</h3>
              <p data-testid="memory-imported-note">{IMPORTED_NOTE}</p>
              <ol className="activity" aria-labelledby="memory-imported-heading">
                {groups.imported.map((e) => (
                  <Entry key={e.id} e={e} context={context} testId="memory-imported" />
                ))}
              </ol>
            </>
          )}
        </>
      )}
    </section>
  );
}

/** One entry: its kind and text, who taught it and where, and where it is read (with the toggle when it may be shared). */
function Entry({ e, context: c, testId }: { e: ListedEntry; context: EntryContext; testId: string }) {
  const where = learnedWhere(e, c.label);
  const reach = reachOf(e, c.viewer, c.home);
  const action = `share:${e.id}`;
  return (
    <li data-testid={testId}>
      <strong>{e.kind}</strong> · {e.text}
      <p className="meta" data-testid="memory-taught-by" title={e.from}>
        {taughtBy(e, c.viewer, c.names)}
        {where && ` · ${where}`}
      </p>
      {reach.kind === "toggle" && (
        <div className="check">
          <input
            id={`share-${e.id}`}
            type="checkbox"
            checked={reach.shared}
            disabled={!!c.act.busy}
            onChange={(ev) => c.share(e, ev.target.checked)}
          />
          <label htmlFor={`share-${e.id}`}>In all my conversations</label>
          {c.act.busy === action && <span className="meta">Signing…</span>}
        </div>
      )}
      <p className="meta" data-testid="memory-reach" aria-live="polite">
        {reachWords(reach, c.label)}
      </p>
      <ErrorBox error={c.act.errorOf(action)} />
    </li>
  );
}
