// A claim's wait in people's words (docs/claims.md, "Waiting and
// cancelling"): what the pool waits on at each stage, and how long it has
// waited. The web app and the CLI say the same.
import { ClaimStage } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";

/** What each stage waits on, as a person reads it. */
export const CLAIM_STAGE_WORDS: Readonly<Record<ClaimStage, string>> = {
  [ClaimStage.UNSPECIFIED]: "Starting the claim",
  [ClaimStage.RESERVING]: "Reserving an agent from the pool",
  [ClaimStage.STARTING]: "The agent is starting",
  [ClaimStage.JOINING]:
    "Waiting for the conversation's creator to let the agent in (their Convos app adds it, so it must be open)",
  [ClaimStage.JOINED]: "The agent joined the conversation",
  [ClaimStage.FAILED]: "The claim failed; nothing was claimed",
  [ClaimStage.CANCELLED]: "Cancelled; nothing was claimed",
};

/** What `stage` waits on, in people's words (an unknown stage from a newer pool reads as "Working"). */
export function claimStageWords(stage: ClaimStage): string {
  return CLAIM_STAGE_WORDS[stage] ?? "Working";
}

/** Whether the claim has ended at `stage`: nothing more to wait for or cancel. */
export function claimEnded(stage: ClaimStage): boolean {
  return stage === ClaimStage.JOINED || stage === ClaimStage.FAILED || stage === ClaimStage.CANCELLED;
}

/** Time waited, for people: "4 s", "1 min 05 s". Never negative. */
export function elapsedWords(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}
