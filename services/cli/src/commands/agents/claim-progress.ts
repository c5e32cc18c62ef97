// A claim's wait on the terminal (docs/cli.md, "claim"): while the POST waits
// for the agent to join, the CLI reads the claim's stage by its key
// (GET /api/pool/claims/{key}, signed in) and says on stderr what the pool
// waits on, with the time waited; stdout keeps only the JSON answer. Ctrl-C
// cancels the claim (DELETE /api/pool/claims/{key}); the POST then answers
// 409 `cancelled`, and nothing is claimed. Progress is best effort: a read
// that fails says nothing, and never fails the claim.
import type { ClaimProgressJson } from "@convos-pool/gateway/rest-json";
import { ClaimStage } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { claimEnded, claimStageWords, elapsedWords } from "@convos-pool/kit/content";
import { request, type Context } from "../../core/http.js";
import { pause } from "../../core/context.js";

/** How often the stage is read while the claim waits. */
export const POLL_MS = 1_000;
/** A claim that answers sooner says nothing on stderr: its lines would only be noise. */
export const QUIET_MS = 2_500;
/** While the stage stays the same, a line again this often: the wait is still going on. */
export const REPEAT_MS = 15_000;

/** The REST stage name ("joining") as the enum; an unknown name as UNSPECIFIED. */
export function stageFromName(name: string): ClaimStage {
  const value = (ClaimStage as unknown as Record<string, number>)[name.toUpperCase()];
  return typeof value === "number" ? value : ClaimStage.UNSPECIFIED;
}

/** What was last said, so that a line is printed only for something new. */
export interface Said {
  stage: ClaimStage;
  atMs: number;
}

/**
 * The line to print for `stage` after `elapsedMs`, or undefined: a new stage
 * is said at once, the same one again every REPEAT_MS, an ended one never
 * (the answer itself says how it ended).
 */
export function progressLine(
  stage: ClaimStage,
  elapsedMs: number,
  last: Said | undefined,
): { line: string; said: Said } | undefined {
  if (claimEnded(stage)) return undefined;
  const again = last?.stage === stage;
  if (again && elapsedMs - last.atMs < REPEAT_MS) return undefined;
  const words = claimStageWords(stage);
  const line = `pool: ${again ? "still: " : ""}${words}… (${elapsedWords(elapsedMs)})`;
  return { line, said: { stage, atMs: elapsedMs } };
}

/**
 * Follows the claim with `key` until `done` settles: stage lines to `say`,
 * and a cancel on the person's Ctrl-C (ctx.onInterrupt). Resolves once it
 * has stopped.
 */
export async function followClaim(
  ctx: Context,
  key: string,
  done: Promise<unknown>,
  say: (line: string) => void,
): Promise<void> {
  const path = `/api/pool/claims/${encodeURIComponent(key)}`;
  const started = Date.now();
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  let last: Said | undefined;
  let cancelling = false;
  const cancel = () => {
    if (cancelling || finished) return;
    cancelling = true;
    say(`pool: cancelling the claim… (${elapsedWords(Date.now() - started)})`);
    request(ctx, "DELETE", path, { auth: "session" }).catch((err: unknown) => {
      // Not running any more (it ended just now), or the pool away: the answer says how it ended.
      say(`pool: could not cancel: ${err instanceof Error ? err.message : String(err)}`);
    });
  };
  ctx.onInterrupt?.(cancel);
  try {
    await Promise.race([done.catch(() => undefined), pause(ctx, QUIET_MS - POLL_MS)]);
    while (!finished) {
      await Promise.race([done.catch(() => undefined), pause(ctx, POLL_MS)]);
      if (finished || cancelling) continue;
      try {
        const { body } = await request(ctx, "GET", path, { auth: "session" });
        const next = progressLine(
          stageFromName((body as Partial<ClaimProgressJson>).stage ?? ""),
          Date.now() - started,
          last,
        );
        if (next && !finished) {
          say(next.line);
          last = next.said;
        }
      } catch {
        // Not begun yet (404), or no session to be had: nothing to say.
      }
    }
  } finally {
    ctx.onInterrupt?.(undefined);
  }
}
