// When an agent speaks, by the names people use ("speak", "mention",
// "paused"; "auto" for the default by the conversation's size), for the
// agent, the claims service, the REST gateway, the CLI and the web app. The
// values are the proto's Participation (instance.proto); the agent enforces
// them (docs/instance.md, "Participation").
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { invalidArguments, type FieldViolationInfo } from "./errors.js";

export type ParticipationModeName = "auto" | "speak" | "mention" | "paused";

export const PARTICIPATION_MODE_NAMES = [
  "auto",
  "speak",
  "mention",
  "paused",
] as const satisfies readonly ParticipationModeName[];

/** A day: a cooldown longer than that is a pause, which has a mode of its own. */
export const MAX_COOLDOWN_SECONDS = 86_400;

const MODES: Record<ParticipationModeName, ParticipationMode> = {
  auto: ParticipationMode.UNSPECIFIED,
  speak: ParticipationMode.SPEAK,
  mention: ParticipationMode.MENTION,
  paused: ParticipationMode.PAUSED,
};

/** One line on what each mode does. */
export const PARTICIPATION_SUMMARIES: Record<ParticipationModeName, string> = {
  auto: "speak when it is alone with one person, mention in a group",
  speak: "answers what people say to the conversation",
  mention: "answers only when named or replied to",
  paused: "says nothing until its owner sets another mode",
};

/** What the owner signs and the agent holds. */
export type ResolvedParticipation = {
  mode: ParticipationMode;
  cooldownSeconds: number;
};

/** Checked: a known mode, a cooldown of 0 to a day; INVALID_ARGUMENT naming the field otherwise. */
export function resolveParticipation(p: Partial<ResolvedParticipation> | undefined): ResolvedParticipation {
  const violations: FieldViolationInfo[] = [];
  const mode = p?.mode ?? ParticipationMode.UNSPECIFIED;
  if (!Object.values(MODES).includes(mode))
    violations.push({
      field: "participation.mode",
      description: `must be one of ${PARTICIPATION_MODE_NAMES.join(", ")}`,
    });
  const cooldownSeconds = p?.cooldownSeconds ?? 0;
  if (!Number.isInteger(cooldownSeconds) || cooldownSeconds < 0 || cooldownSeconds > MAX_COOLDOWN_SECONDS)
    violations.push({
      field: "participation.cooldown_seconds",
      description: `must be a whole number of seconds from 0 to ${MAX_COOLDOWN_SECONDS}`,
    });
  // Both named at once.
  if (violations.length > 0) throw invalidArguments(violations);
  return { mode, cooldownSeconds };
}

export function participationModeName(mode: ParticipationMode): ParticipationModeName {
  return PARTICIPATION_MODE_NAMES.find((n) => MODES[n] === mode) ?? "auto";
}

/** "auto", "speak", "mention" or "paused"; undefined for anything else. */
export function parseParticipationMode(s: ParticipationModeName): ParticipationMode;
export function parseParticipationMode(s: string): ParticipationMode | undefined;
export function parseParticipationMode(s: string): ParticipationMode | undefined {
  return (PARTICIPATION_MODE_NAMES as readonly string[]).includes(s) ? MODES[s as ParticipationModeName] : undefined;
}
