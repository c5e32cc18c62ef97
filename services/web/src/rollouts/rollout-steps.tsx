// The creator's steps on a rollout's page, each one signed RolloutStep
// (docs/rollouts.md, "The signed step"): over the candidate version, the
// share after the step and the hash of the bounds as the service keeps
// them. Only the steps the rollout's state takes are offered
// (rollout-policy.ts stepsAllowed); promote and roll back ask to confirm.
// While the pool's watch pauses a running rollout, widening is shown but
// disabled, with the reason (the service refuses it the same way).
import { useMutation } from "@connectrpc/connect-query";
import { type Rollout, RolloutService } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { useState } from "react";
import {
  type CreatorStep,
  nextShare,
  STEP_ACTIONS,
  shareFromPercent,
  stepFields,
  stepsAllowed,
} from "./rollout-policy";
import { pausePanel, percent } from "./rollout-words";
import { useSession } from "../sign-in/session";
import { ErrorBox, Notice, TextField } from "../ui/ui";
import { useAction } from "../ui/use-action";

const WIDEN_FIELD = "share_basis_points";

const DONE: Record<CreatorStep, string> = {
  widen: "Widened.",
  pause: "Paused: no more agents move to the new version.",
  resume: "Resumed.",
  promote: "Promoted: every conversation follows the new version.",
  roll_back: "Rolled back: every agent follows the current content again.",
};

export function RolloutSteps({ rollout: r }: { rollout: Rollout }) {
  const { sign } = useSession();
  const step = useMutation(RolloutService.method.stepRollout);
  const action = useAction();
  const allowed = stepsAllowed(r.state);
  const suggested = nextShare(r.shareBasisPoints);
  const [widenTo, setWidenTo] = useState(suggested ? String(suggested / 100) : "");
  const [confirming, setConfirming] = useState<"promote" | "roll_back">();
  if (allowed.length === 0) return null;

  const take = (s: CreatorStep) =>
    action.run(s, DONE[s], async () => {
      const share = s === "widen" ? shareFromPercent(widenTo, r.shareBasisPoints) : undefined;
      const fields = stepFields(r, s, share);
      const signature = await sign("RolloutStep", fields);
      await step.mutateAsync({
        templateId: r.templateId,
        rolloutId: r.rolloutId,
        action: STEP_ACTIONS[s],
        shareBasisPoints: s === "widen" ? fields.shareBasisPoints : 0,
        signature,
      });
      setConfirming(undefined);
      if (s === "widen") {
        const after = nextShare(fields.shareBasisPoints);
        setWidenTo(after ? String(after / 100) : "");
      }
    });
  const busy = action.busy !== undefined;
  const waits = pausePanel(r.watch)?.widen;
  const [c, b] = [String(r.candidateVersion), String(r.baselineVersion)];

  return (
    <section className="card" aria-labelledby="steps-heading">
      <h2 id="steps-heading">Your next step</h2>
      <p className="hint">Each step is signed with your key.</p>
      {action.done && <Notice>{action.done}</Notice>}
      <ErrorBox error={action.error} fieldsShown={action.errorOf("widen") ? [WIDEN_FIELD] : []} />
      {allowed.includes("widen") && (
        <form
          className="row widen"
          onSubmit={(e) => {
            e.preventDefault();
            void take("widen");
          }}
        >
          <TextField
            label={`Widen from ${percent(r.shareBasisPoints)} to (%)`}
            name={WIDEN_FIELD}
            inputMode="decimal"
            value={widenTo}
            onChange={(e) => setWidenTo(e.target.value)}
            error={action.errorOf("widen")}
            disabled={waits !== undefined}
          />
          <button
            type="submit"
            disabled={busy || waits !== undefined}
            aria-describedby={waits ? "widen-waits" : undefined}
          >
            Sign and widen
          </button>
        </form>
      )}
      {allowed.includes("widen") && waits && (
        <p className="hint" id="widen-waits" data-testid="widen-waits">
          {waits}
        </p>
      )}
      <div className="actions">
        {allowed.includes("pause") && (
          <button type="button" disabled={busy} onClick={() => void take("pause")}>
            Sign and pause
          </button>
        )}
        {allowed.includes("resume") && (
          <button type="button" disabled={busy} onClick={() => void take("resume")}>
            Sign and resume
          </button>
        )}
        {allowed.includes("promote") && (
          <button type="button" disabled={busy} onClick={() => setConfirming("promote")}>
            Promote to every conversation…
          </button>
        )}
        {allowed.includes("roll_back") && (
          <button type="button" className="danger" disabled={busy} onClick={() => setConfirming("roll_back")}>
            Roll back…
          </button>
        )}
      </div>
      {confirming && (
        <fieldset className="confirm">
          <legend>{confirming === "promote" ? `Promote version ${c}?` : `Roll back version ${c}?`}</legend>
          <p>
            {confirming === "promote"
              ? `Every conversation follows version ${c}, as an update would; the pool stops comparing. Owners who pinned their agent keep theirs.`
              : `Every agent follows version ${String(r.fallbackVersion)}, the content of version ${b} again, which you signed when you started.`}
          </p>
          <div className="row">
            <button type="button" className="primary" disabled={busy} onClick={() => void take(confirming)}>
              {confirming === "promote" ? "Sign and promote" : "Sign and roll back"}
            </button>
            <button type="button" onClick={() => setConfirming(undefined)}>
              Cancel
            </button>
          </div>
        </fieldset>
      )}
    </section>
  );
}
