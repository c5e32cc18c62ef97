// The agent page's overview: a newer version when it is pinned behind one
// (newer.tsx), what it is (its facts, its instructions' version,
// pinned or following), pin and remove, and where it came from (lineage,
// asked once lineage has had time to record it: lineage-wait.ts).
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import {
  InheritanceState,
  InstanceState,
  SyncState,
  type Instance,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { useEffect, useState } from "react";
import { shownError } from "../ui/errors";
import { conversationTitle } from "./groups";
import { rolloutNote, runsWords, short, stateName, syncName, when } from "../words/format";
import { newerRelease } from "./newer-version";
import { Link, navigate } from "../router";
import { useSession } from "../sign-in/session";
import { ErrorBox, Loading, Notice } from "../ui/ui";
import { NewerVersion } from "./newer";
import { useAction } from "../ui/use-action";
import { lineageAskIn } from "./lineage-wait";

export function Overview({ agent: i }: { agent: Instance }) {
  const { sign } = useSession();
  const act = useAction();
  const pin = useMutation(ClaimService.method.setInstancePin);
  const remove = useMutation(ClaimService.method.removeAgent);
  const pinned = i.sync?.state === SyncState.PINNED;
  const live = i.state === InstanceState.CLAIMED;
  const newer = live ? newerRelease(i) : undefined;
  const trial = live ? rolloutNote(i) : undefined;
  return (
    <>
      {newer && <NewerVersion agent={i} newer={newer} act={act} />}
      {trial && (
        <p className="notice" role="status" data-testid="agent-rollout">
          {trial}
        </p>
      )}
      <dl className="facts">
        <dt>Agent</dt>
        <dd>
          <code>{i.id}</code>
        </dd>
        <dt>State</dt>
        <dd data-testid="agent-state">{stateName(i.state)}</dd>
        <dt>Conversation</dt>
        <dd>
          {i.conversationId ? (
            <>
              <span data-testid="agent-conversation">{conversationTitle(i.conversationName)}</span>{" "}
              <code className="meta" title={i.conversationId}>
                ({short(i.conversationId)})
              </code>
            </>
          ) : (
            "—"
          )}
        </dd>
        <dt>Template</dt>
        <dd data-testid="agent-template">
          {/* As its statement names it ("Trip Planner v1"): the instructions' version it runs (words/format.ts). */}
          <Link to={`/templates/${i.templateId}`} title={i.templateId}>
            {runsWords(i)}
          </Link>
        </dd>
        <dt>Instructions</dt>
        <dd data-testid="agent-sync">{syncName(i)}</dd>
        <dt>Model</dt>
        <dd>
          {i.model}
          {i.modelOverridden && " (chosen by you)"}
        </dd>
        <dt>Tools</dt>
        <dd>{i.tools.length ? i.tools.map((t) => `${t.toolId}: ${t.handle}`).join(", ") : "—"}</dd>
        {i.inheritance && i.inheritance.state !== InheritanceState.UNSPECIFIED && (
          <>
            <dt>Inherited</dt>
            <dd>
              {i.inheritance.state === InheritanceState.SENT && `from its parent: ${i.inheritance.carry.join(", ")}`}
              {i.inheritance.state === InheritanceState.PENDING && "waiting for its parent's summary"}
              {i.inheritance.state === InheritanceState.FAILED && `nothing: ${i.inheritance.error}`}
            </dd>
          </>
        )}
        {i.pendingOwnerId && (
          <>
            <dt>Offered to</dt>
            <dd>
              <code>{i.pendingOwnerId}</code> (until they accept)
            </dd>
          </>
        )}
        <dt>Claimed</dt>
        <dd>{when(i.claimedAt)}</dd>
      </dl>
      <ErrorBox error={act.errorOfOthers("move")} />
      {act.done && <Notice>{act.done}</Notice>}
      {live && (
        <div className="actions">
          <button
            type="button"
            disabled={!!act.busy}
            onClick={() =>
              void act.run(
                "pin",
                pinned ? "It follows its template's updates again." : "Pinned: it stays on this version.",
                async () => {
                  const ownerSignature = await sign("SetInstancePin", { instanceId: i.id, pinned: !pinned });
                  await pin.mutateAsync({ instanceId: i.id, pinned: !pinned, ownerSignature });
                },
              )
            }
          >
            {pinned ? "Unpin: follow updates" : "Pin to this version"}
          </button>
          <button
            type="button"
            className="danger"
            disabled={!!act.busy}
            onClick={() => {
              if (!window.confirm("Remove this agent from its conversation? Its memory is deleted.")) return;
              void act.run("remove", "Removed.", async () => {
                const ownerSignature = await sign("RemoveAgent", { instanceId: i.id });
                await remove.mutateAsync({ instanceId: i.id, ownerSignature });
                navigate("/agents");
              });
            }}
          >
            Remove
          </button>
        </div>
      )}
      <Lineage agent={i} />
    </>
  );
}

function Lineage({ agent: i }: { agent: Instance }) {
  const wait = lineageAskIn(i.claimedAt ? timestampMs(i.claimedAt) : undefined, Date.now());
  const [, tick] = useState(0);
  useEffect(() => {
    if (!wait) return;
    const timer = setTimeout(() => tick((n) => n + 1), wait);
    return () => clearTimeout(timer);
  }, [wait]);
  const lineage = useQuery(LineageService.method.getLineage, { instanceId: i.id }, { enabled: wait === 0 });
  return (
    <section aria-labelledby="lineage-heading">
      <h2 id="lineage-heading">Lineage</h2>
      {wait === undefined && <p>Its lineage is recorded once it has joined its conversation.</p>}
      {wait !== undefined && lineage.isPending && <Loading what="its lineage" />}
      {lineage.error && <ErrorBox error={shownError(lineage.error)} />}
      {lineage.data && (
        <>
          <p>
            {lineage.data.ancestors.length === 0 ? "An original: not cloned from another agent." : "Cloned from: "}
            {lineage.data.ancestors.map((a, n) => (
              <span key={a.instanceId}>
                {n > 0 && " ← "}
                <Link to={`/agents/${a.instanceId}`}>{a.instanceId}</Link>
              </span>
            ))}
          </p>
          <p>
            {lineage.data.descendants.length === 0
              ? "No clones."
              : `${lineage.data.descendants.length} clone${lineage.data.descendants.length > 1 ? "s" : ""}: `}
            {lineage.data.descendants.map((d, n) => (
              <span key={d.instanceId}>
                {n > 0 && ", "}
                <Link to={`/agents/${d.instanceId}`}>{d.instanceId}</Link>
                {d.endedAt && " (ended)"}
              </span>
            ))}
          </p>
        </>
      )}
    </section>
  );
}
