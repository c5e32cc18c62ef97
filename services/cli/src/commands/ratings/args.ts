// The values the rating commands read from the command line.
import { CommandUsageError } from "../../core/args.js";

/** STARS of `rate`: a whole number from 1 to 5. */
export function starsArg(value: string): number {
  if (!/^[1-5]$/.test(value)) throw new CommandUsageError(`STARS must be 1, 2, 3, 4 or 5 (got "${value}")`, "rate");
  return Number(value);
}
