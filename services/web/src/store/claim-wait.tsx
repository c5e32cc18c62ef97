// A claim's wait on the template page (docs/claims.md, "Waiting and
// cancelling"): the time waited, what the pool waits on in people's words
// (read by the claim's key while the Claim call is under way), and a Cancel
// that stops the claim and gives everything back. Its failure is said above
// the form; the code sits in a collapsed "Details". Shown once the claim has
// run QUIET_MS, as the CLI says nothing before: by then the pool has begun
// it, so its key is known (asked sooner, the pool answers NOT_FOUND, as for a
// key that never was, and the browser logs each as a failed load).
import { Code } from "@connectrpc/connect";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ClaimService, ClaimStage } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { claimStageWords, elapsedWords } from "@convos-pool/kit/browser";
import { useEffect, useState } from "react";
import { shownError, type ShownError } from "../ui/errors";

/** A fresh idempotency key for one claim: names it to follow and to cancel (crypto.randomUUID needs a secure context). */
export function newClaimKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A claim that answers sooner shows no wait (its words would only flash), and its key is not asked about before. */
export const QUIET_MS = 2_500;

/** The claim with `claimKey`, sent at `sentAt` (ms), while it runs: nothing until QUIET_MS after sending. */
export function ClaimWait({ claimKey, sentAt }: { claimKey: string; sentAt: number }) {
  const [begun, setBegun] = useState(() => Date.now() - sentAt >= QUIET_MS);
  useEffect(() => {
    if (begun) return;
    const quiet = setTimeout(() => setBegun(true), QUIET_MS - (Date.now() - sentAt));
    return () => clearTimeout(quiet);
  }, [begun, sentAt]);
  return begun ? <ClaimProgress claimKey={claimKey} sentAt={sentAt} /> : null;
}

function ClaimProgress({ claimKey, sentAt }: { claimKey: string; sentAt: number }) {
  const progress = useQuery(
    ClaimService.method.getClaimProgress,
    { idempotencyKey: claimKey },
    { refetchInterval: 1_000, retry: false },
  );
  const cancel = useMutation(ClaimService.method.cancelClaim);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(tick);
  }, []);
  const stage = progress.data?.stage ?? ClaimStage.UNSPECIFIED;
  const cancelling = cancel.isPending || cancel.isSuccess || progress.data?.cancelRequested === true;
  return (
    <div role="status" className="notice claim-wait" data-testid="claim-wait" data-stage={ClaimStage[stage]}>
      <p>
        <strong>{cancelling ? "Cancelling…" : `${claimStageWords(stage)}…`}</strong>{" "}
        <span data-testid="claim-elapsed">{elapsedWords(now - sentAt)}</span>
      </p>
      {stage === ClaimStage.JOINING && !cancelling && (
        <p>
          Only their Convos app can add the agent. If they are away, cancel and try again later: nothing is claimed
          until the agent is in.
        </p>
      )}
      <button
        type="button"
        className="link"
        disabled={cancelling}
        onClick={() => cancel.mutate({ idempotencyKey: claimKey })}
      >
        Cancel
      </button>
      {cancel.error && <p className="error">Could not cancel: {shownError(cancel.error).message}</p>}
    </div>
  );
}

/** A failed claim's Connect code, collapsed under the sentence the error box says. */
export function ErrorDetails({ error }: { error: ShownError | undefined }) {
  if (error?.code === undefined) return null;
  const name = (Code[error.code] ?? "unknown").replace(/[A-Z]/g, (c, i: number) => (i ? "_" : "") + c.toLowerCase());
  return (
    <details className="error-details" data-testid="error-details">
      <summary>Details</summary>
      <code>{name}</code>
    </details>
  );
}
