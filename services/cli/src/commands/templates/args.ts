// The values the template commands read from the command line.
import { CommandUsageError } from "../../core/args.js";

/** The orders of `browse`, by the names the REST query takes. */
export const SORTS = ["relevance", "newest", "most_used", "top_rated"] as const;
export type Sort = (typeof SORTS)[number];

/** `--sort` of browse. */
export function sortArg(value: string, command: string): Sort {
  if (!(SORTS as readonly string[]).includes(value))
    throw new CommandUsageError(`--sort must be relevance, newest, most_used or top_rated (got "${value}")`, command);
  return value as Sort;
}
