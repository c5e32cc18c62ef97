// The editor's choice of how a new version goes out (docs/rollouts.md): to
// every conversation (UpdateTemplate), or as a staged rollout to a share of
// them first, with the creator's bounds (defaults unless they open them).
// A start is signed three times, as the CLI signs it: the content as an
// update, the fallback (RollbackTemplate from the new version back to the
// current one, over the current content) and the start step (RolloutStep
// over the share and the bounds' hash).
import { useMutation } from "@connectrpc/connect-query";
import { RolloutAction, RolloutService, type Rollout } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { contentFromJson, contentToJson, jsonHash, type TemplateContentJson } from "@convos-pool/kit/browser";
import { useQueryClient } from "@tanstack/react-query";
import type { ShownError } from "../ui/errors";
import { missingFromAnswer } from "../ui/errors";
import {
  BOUND_FIELDS,
  type BoundField,
  boundsFromText,
  boundsHash,
  DEFAULT_BOUND,
  DEFAULT_FALSE_ALARM,
  DEFAULT_START_PERCENT,
  shareFromPercent,
} from "./rollout-policy";
import { useSession } from "../sign-in/session";
import { TextField } from "../ui/ui";

export interface ReleaseChoice {
  /** A staged rollout rather than an update to every conversation. */
  staged: boolean;
  /** The share, in percent as typed. */
  share: string;
  /** Each bound as typed; empty for the default. */
  bounds: Partial<Record<BoundField, string>>;
}

export const EVERYONE: ReleaseChoice = { staged: false, share: DEFAULT_START_PERCENT, bounds: {} };

const SHARE_FIELD = "share_basis_points";
const BOUND_LABELS: Record<BoundField, string> = {
  removals: "Removed within a day of the claim",
  pauses: "Paused by their owner",
  stopRequests: "Stopped while thinking",
  thumbsDown: "Thumbs down on its answers",
  corrections: "Corrections",
  toolCallsFailed: "Failed tool calls",
  approvalsDeclined: "Approvals its owner declined",
  falseAlarm: "False alarms allowed",
};

/** The fields a start's refusal may name that this form shows by their input. */
export const ROLLOUT_FIELDS = [SHARE_FIELD, ...BOUND_FIELDS.map(([, name]) => `bounds.${name}`), "bounds.false_alarm"];

export function ReleaseChoiceField({
  value,
  onChange,
  error,
}: {
  value: ReleaseChoice;
  onChange: (c: ReleaseChoice) => void;
  error: ShownError | undefined;
}) {
  const bound = (field: BoundField, name: string, placeholder: number) => (
    <TextField
      key={field}
      label={BOUND_LABELS[field]}
      name={name}
      inputMode="decimal"
      placeholder={String(placeholder)}
      value={value.bounds[field] ?? ""}
      onChange={(e) => onChange({ ...value, bounds: { ...value.bounds, [field]: e.target.value } })}
      error={error}
    />
  );
  return (
    <fieldset className="release-choice">
      <legend>How it goes out</legend>
      <div className="check">
        <input
          id="release-everyone"
          type="radio"
          name="release"
          checked={!value.staged}
          onChange={() => onChange({ ...value, staged: false })}
        />
        <label htmlFor="release-everyone">To every conversation now</label>
      </div>
      <div className="check">
        <input
          id="release-staged"
          type="radio"
          name="release"
          checked={value.staged}
          onChange={() => onChange({ ...value, staged: true })}
        />
        <label htmlFor="release-staged">A share of conversations first (a staged rollout)</label>
      </div>
      {value.staged && (
        <>
          <TextField
            label="Share of conversations (%)"
            name={SHARE_FIELD}
            inputMode="decimal"
            value={value.share}
            onChange={(e) => onChange({ ...value, share: e.target.value })}
            error={error}
            hint="The others stay on the current version. You widen, pause, promote or roll it back from the rollout's page; the pool halts it by itself if people do worse with the new version."
          />
          <details className="bounds">
            <summary>Bounds: how much worse halts it</summary>
            <p className="hint">
              For each signal, how much worse than the current version's rate the new one may be before the pool halts
              it: {DEFAULT_BOUND} (the default, when empty) halts at half again the current rate. From 0.05 to 10.
            </p>
            <div className="bounds-grid">
              {BOUND_FIELDS.map(([field, name]) => bound(field, `bounds.${name}`, DEFAULT_BOUND))}
              {bound("falseAlarm", "bounds.false_alarm", DEFAULT_FALSE_ALARM)}
            </div>
          </details>
        </>
      )}
    </fieldset>
  );
}

/** Starts a rollout of `content` on `base` (its current version the baseline): signs the three signatures and sends them. */
export function useStartRollout() {
  const { sign } = useSession();
  const queryClient = useQueryClient();
  const start = useMutation(RolloutService.method.startRollout);
  return async (
    base: Template,
    content: TemplateContentJson,
    choice: ReleaseChoice,
    o: { releaseNotes: string; acknowledgeWalletRemoval: boolean },
  ): Promise<Rollout> => {
    // Checked before anything is signed, by the fields the service would name.
    const share = shareFromPercent(choice.share);
    const bounds = boundsFromText(choice.bounds);
    if (!base.content) throw missingFromAnswer("current content");
    const ack = o.acknowledgeWalletRemoval;
    const next = base.version + 1n;
    const signature = await sign("UpdateTemplate", {
      templateId: base.id,
      version: base.version,
      contentHash: jsonHash(content),
      acknowledgeWalletRemoval: ack,
    });
    // The way back, signed now: from the new version to the current one, whose content it restores.
    const fallbackSignature = await sign("RollbackTemplate", {
      templateId: base.id,
      version: next,
      targetVersion: base.version,
      contentHash: jsonHash(contentToJson(base.content)),
      acknowledgeWalletRemoval: ack,
    });
    const stepSignature = await sign("RolloutStep", {
      templateId: base.id,
      version: next,
      action: RolloutAction.START,
      shareBasisPoints: share,
      boundsHash: boundsHash(bounds),
    });
    const res = await start.mutateAsync({
      templateId: base.id,
      expectedVersion: base.version,
      content: contentFromJson(content),
      signature,
      releaseNotes: o.releaseNotes,
      acknowledgeWalletRemoval: ack,
      shareBasisPoints: share,
      bounds,
      fallbackSignature,
      stepSignature,
    });
    await queryClient.invalidateQueries();
    if (!res.rollout) throw missingFromAnswer("rollout");
    return res.rollout;
  };
}
