// `pool rollout …`: a template's staged rollouts from the command line
// (docs/cli.md, "Rollouts"; docs/rollouts.md). A start reads the current
// version and its content, and signs three things with the key: the new
// content as an update (UpdateTemplate), the fallback that brings it back
// (RollbackTemplate from the new version to the current one, over the
// current content), and the start step (RolloutStep). Every other step
// reads the rollout first and signs a RolloutStep over its candidate
// version, the share after the step and the hash of its bounds as the
// service keeps them.
import { resolve } from "node:path";
import { RolloutAction } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { ROLLOUT_SIGNAL_NAMES, ROLLOUT_SIGNALS } from "@convos-pool/kit/content";
import type { RolloutJson as RolloutRest, RolloutStepJson, StepActionName } from "@convos-pool/gateway/rest-json";
import { rolloutBoundsHash, rolloutBoundsJson, type RolloutBoundsJson } from "@convos-pool/kit/signing";
import { contentHash, fillContent, readJsonFile } from "../../core/content.js";
import { CliError } from "../../core/errors.js";
import { request, type Context, type Page } from "../../core/http.js";
import { loadKey } from "../../core/key-store.js";
import { signRest } from "../../core/signing.js";
import { currentContent, withBaseCreator } from "../templates/commands.js";
import type { BoundsArgs } from "./args.js";

/** The creator's steps after the start, by the names the REST body takes. */
export type StepName = StepActionName;

const STEP_NUMBERS: Record<StepName, RolloutAction> = {
  widen: RolloutAction.WIDEN,
  pause: RolloutAction.PAUSE,
  resume: RolloutAction.RESUME,
  promote: RolloutAction.PROMOTE,
  roll_back: RolloutAction.ROLL_BACK,
};

/**
 * A rollout as the gateway answers it (docs/rest.md, "Rollouts"): the
 * gateway's own type, what the CLI may go without optional, and each step
 * the three fields it shows.
 */
export type RolloutJson = Pick<
  RolloutRest,
  | "rollout_id"
  | "template_id"
  | "baseline_version"
  | "candidate_version"
  | "fallback_version"
  | "state"
  | "share_basis_points"
  | "bounds"
> &
  Partial<Pick<RolloutRest, "share_percent" | "watch" | "conversations" | "conversations_in" | "started_at">> & {
    steps?: Pick<RolloutStepJson, "action" | "share_basis_points" | "at">[];
  };

const rolloutsPath = (id: string) => `/api/pool/templates/${encodeURIComponent(id)}/rollouts`;
const rolloutPath = (id: string, rolloutId: string) => `${rolloutsPath(id)}/${encodeURIComponent(rolloutId)}`;

/** The bounds in the REST body's names, only those given. */
function boundsBody(b: BoundsArgs): Record<string, number> {
  const names: [keyof BoundsArgs, string][] = [
    ...ROLLOUT_SIGNALS.map((s): [keyof BoundsArgs, string] => [s, ROLLOUT_SIGNAL_NAMES[s]]),
    ["falseAlarm", "false_alarm"],
  ];
  const out: Record<string, number> = {};
  for (const [k, name] of names) {
    const v = b[k];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** `boundsHash` of a rollout's bounds as the service answered them (defaults filled in there already). */
export function boundsHashOf(bounds: RolloutBoundsJson): `0x${string}` {
  return rolloutBoundsHash(
    rolloutBoundsJson({
      removals: bounds.removals,
      pauses: bounds.pauses,
      stopRequests: bounds.stop_requests,
      thumbsDown: bounds.thumbs_down,
      corrections: bounds.corrections,
      toolCallsFailed: bounds.tool_calls_failed,
      approvalsDeclined: bounds.approvals_declined,
      falseAlarm: bounds.false_alarm,
    }),
  );
}

export interface StartOptions {
  /** Hundredths of a percent, 1 to 9,999. */
  share: number;
  bounds?: BoundsArgs | undefined;
  notes?: string | undefined;
  acknowledgeWalletRemoval?: boolean | undefined;
}

/** Starts a rollout of FILE's content on the template: its current version is the baseline. Prints `{rollout, template}`. */
export async function startRollout(ctx: Context, id: string, file: string, o: StartOptions): Promise<unknown> {
  const content = fillContent(await withBaseCreator(ctx, await readJsonFile(resolve(ctx.cwd, file), file)), file);
  const key = await loadKey(ctx.keyFile);
  const baseline = await currentContent(ctx, id);
  const version = BigInt(baseline.version);
  const ack = o.acknowledgeWalletRemoval === true;
  const bounds = o.bounds ?? {};
  const signature = await signRest(ctx, key, "UpdateTemplate", {
    templateId: id,
    version,
    contentHash: contentHash(content),
    acknowledgeWalletRemoval: ack,
  });
  // The way back, signed now: from the new version to the current one, whose content it restores.
  const fallback = await signRest(ctx, key, "RollbackTemplate", {
    templateId: id,
    version: version + 1n,
    targetVersion: version,
    contentHash: contentHash(baseline.content),
    acknowledgeWalletRemoval: ack,
  });
  const step = await signRest(ctx, key, "RolloutStep", {
    templateId: id,
    version: version + 1n,
    action: RolloutAction.START,
    shareBasisPoints: o.share,
    boundsHash: rolloutBoundsHash(rolloutBoundsJson(bounds)),
  });
  const body = {
    expected_version: baseline.version,
    content,
    signature,
    ...(o.notes !== undefined ? { release_notes: o.notes } : {}),
    ...(ack ? { acknowledge_wallet_removal: true } : {}),
    share_basis_points: o.share,
    ...(Object.keys(boundsBody(bounds)).length > 0 ? { bounds: boundsBody(bounds) } : {}),
    fallback_signature: fallback,
    step_signature: step,
  };
  return (await request(ctx, "POST", rolloutsPath(id), { body })).body;
}

async function readRollout(ctx: Context, id: string, rolloutId: string): Promise<RolloutJson> {
  const body = (await request(ctx, "GET", rolloutPath(id, rolloutId), { auth: "session" })).body as RolloutJson;
  if (typeof body?.candidate_version !== "number" || typeof body.share_basis_points !== "number" || !body.bounds)
    throw new CliError(`rollout ${rolloutId}: the server's answer names no version, share or bounds`);
  return body;
}

/**
 * One signed step of a rollout: widen (to `share`, hundredths of a percent),
 * pause, resume, promote or roll back. Reads the rollout first (signed in)
 * for what the step signs; prints the rollout after it.
 */
export async function stepRollout(
  ctx: Context,
  id: string,
  rolloutId: string,
  action: StepName,
  share?: number,
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const now = await readRollout(ctx, id, rolloutId);
  // The share after the step: WIDEN's new one, the current one for every other step.
  const after = action === "widen" && share !== undefined ? share : now.share_basis_points;
  const signature = await signRest(ctx, key, "RolloutStep", {
    templateId: id,
    version: BigInt(now.candidate_version),
    action: STEP_NUMBERS[action],
    shareBasisPoints: after,
    boundsHash: boundsHashOf(now.bounds),
  });
  const body = { action, ...(action === "widen" ? { share_basis_points: after } : {}), signature };
  return (await request(ctx, "POST", `${rolloutPath(id, rolloutId)}/steps`, { body })).body;
}

/** The template's rollouts, newest first (signed in as its creator). */
export async function listRollouts(ctx: Context, id: string, page: Page = {}): Promise<unknown> {
  return (await request(ctx, "GET", rolloutsPath(id), { auth: "session", query: { ...page } })).body;
}

/** One rollout as text for people (formatRollout). */
export async function showRollout(ctx: Context, id: string, rolloutId: string): Promise<string> {
  return formatRollout(await readRollout(ctx, id, rolloutId));
}

// ---------------------------------------------------------------- as text

const STATE_WORDS: Record<string, string> = {
  running: "running",
  paused: "paused (no agent moves to the new version; those on it stay)",
  promoted: "promoted (every conversation follows the new version)",
  rolled_back: "rolled back (every agent follows the fallback version)",
  halted: "halted by the pool, and rolled back",
};

const SIGNAL_WORDS: Record<string, string> = {
  removals: "removals within a day",
  pauses: "paused by their owner",
  stop_requests: "stopped while thinking",
  thumbs_down: "👎",
  corrections: "corrections",
  tool_calls_failed: "failed tool calls",
  approvals_declined: "approvals declined",
};

/** A share in hundredths of a percent as people write it: 1,000 is "10%", 1,250 "12.5%". */
export const percent = (basisPoints: number) => `${basisPoints / 100}%`;

/** "2026-11-28 10:00:00 UTC" */
const when = (iso: string | null | undefined) => (iso ? `${iso.slice(0, 19).replace("T", " ")} UTC` : "(no time)");

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

function columns(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? "")].length))) ?? [];
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - [...c].length)))
      .join("   ")
      .trimEnd(),
  );
}

/** A rollout for people: its state and share, its versions, bounds, steps with their times, and the watch's figures. */
export function formatRollout(r: RolloutJson): string {
  const out = [
    `Rollout ${r.rollout_id} of template ${r.template_id}: ${STATE_WORDS[r.state] ?? r.state}, share ${percent(r.share_basis_points)}`,
    `Versions: ${r.baseline_version} (the one before), ${r.candidate_version} (the new one); a roll back makes ${r.fallback_version}, with ${r.baseline_version}'s content.`,
  ];
  if (r.conversations) out.push(`Conversations: ${r.conversations_in ?? 0} of ${r.conversations} in the share.`);
  const b = r.bounds;
  out.push(
    `Bounds (how much worse halts it): ${Object.entries(SIGNAL_WORDS)
      .map(([k, words]) => `${words} ${num((b as unknown as Record<string, number>)[k] ?? 0)}`)
      .join(", ")}; false alarm ${num(b.false_alarm)}`,
    "",
    "Steps:",
    ...columns(
      (r.steps ?? []).map((s) => [`  ${when(s.at)}`, s.action.replace("_", " "), percent(s.share_basis_points)]),
    ),
    "",
  );
  const w = r.watch;
  if (!w) {
    out.push("The watch: no figures yet.");
    return out.join("\n");
  }
  out.push(
    `The watch: ${w.days_counted} day${w.days_counted === 1 ? "" : "s"} counted; it halts when a signal's evidence reaches ${num(w.threshold)}${w.checked_at ? ` (checked ${when(w.checked_at)})` : ""}.`,
  );
  const signals = w.signals ?? [];
  if (signals.length > 0)
    out.push(
      ...columns([
        ["  signal", "new: events / exposure", "current: events / exposure", "evidence"],
        ...signals.map((s) => [
          `  ${SIGNAL_WORDS[s.signal] ?? s.signal}`,
          `${num(s.candidate_events)} / ${num(s.candidate_exposure)}`,
          `${num(s.baseline_events)} / ${num(s.baseline_exposure)}`,
          num(s.evidence),
        ]),
      ]),
    );
  if (w.halted_on) out.push(`Halted on: ${w.halted_on}`);
  return out.join("\n");
}
