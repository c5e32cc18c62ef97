// The values the rollout commands read from the command line: a share in
// percent, and the bounds a start sets.
import { ROLLOUT_SIGNAL_NAMES, ROLLOUT_SIGNALS, type RolloutSignal } from "@convos-pool/kit/content";
import { CommandUsageError } from "../../core/args.js";

/** The bounds a start sets, by the kit's signal names; those not given are the defaults (0.5; 0.05 for the false alarm). */
export type BoundsArgs = Partial<Record<RolloutSignal | "falseAlarm", number>>;

/** `--share PERCENT`: 0.01 to 99.99, at most two decimals, as hundredths of a percent (10 → 1,000). */
export function shareArg(value: string, command?: string): number {
  const bp = /^\d{1,2}(\.\d{1,2})?$/.test(value.replace(/%$/, ""))
    ? Math.round(Number(value.replace(/%$/, "")) * 100)
    : 0;
  if (bp < 1 || bp > 9_999)
    throw new CommandUsageError(
      `--share takes a percent from 0.01 to 99.99, such as 10 (got "${value}"); all of them is an update: promote instead`,
      command,
    );
  return bp;
}

/** The signals a rollout bounds, by the names `--bound` takes (the REST body's) and the kit's. */
const BOUND_NAMES: Record<string, keyof BoundsArgs> = Object.fromEntries(
  ROLLOUT_SIGNALS.map((s) => [ROLLOUT_SIGNAL_NAMES[s], s]),
);

const positiveNumber = (v: string) => (/^\d*\.?\d+$/.test(v) && Number(v) > 0 ? Number(v) : undefined);

/** `--bound SIGNAL=BOUND ...` (each signal once) and `--false-alarm RATE`; the service checks their ranges. */
export function boundsArgs(pairs: string[], falseAlarm: string | undefined, command: string): BoundsArgs {
  const out: BoundsArgs = {};
  const names = Object.keys(BOUND_NAMES).join(", ");
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = pair.slice(0, Math.max(eq, 0)).replaceAll("-", "_");
    const key = BOUND_NAMES[name];
    if (eq < 1 || !key)
      throw new CommandUsageError(`--bound takes SIGNAL=BOUND, SIGNAL one of ${names} (got "${pair}")`, command);
    if (out[key] !== undefined) throw new CommandUsageError(`--bound ${name} is given twice`, command);
    const v = positiveNumber(pair.slice(eq + 1));
    if (v === undefined)
      throw new CommandUsageError(
        `--bound ${name} takes a number above 0: how much worse than the current version halts it, 0.5 for half again (got "${pair.slice(eq + 1)}")`,
        command,
      );
    out[key] = v;
  }
  if (falseAlarm !== undefined) {
    const v = positiveNumber(falseAlarm);
    if (v === undefined || v >= 1)
      throw new CommandUsageError(
        `--false-alarm takes a chance between 0 and 1, such as 0.05 (got "${falseAlarm}")`,
        command,
      );
    out.falseAlarm = v;
  }
  return out;
}
