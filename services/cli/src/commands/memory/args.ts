// The values the memory commands read from the command line.
import { CommandUsageError } from "../../core/args.js";

/** ENTRY_ID... of memory-share: ids separated by spaces or commas, at least one. */
export function entryIdsArg(value: string, command: string): string[] {
  const ids = value.split(/[\s,]+/).filter(Boolean);
  if (ids.length === 0)
    throw new CommandUsageError("ENTRY_ID...: name at least one entry (`pool memory-list ID`)", command);
  return ids;
}

/** `--secret NAME=VALUE`, each name once. */
export function secretsArg(pairs: string[], command: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1)
      throw new CommandUsageError(
        `--secret takes NAME=VALUE, NAME as the exported file names it (got "${pair.slice(0, 40)}")`,
        command,
      );
    const name = pair.slice(0, eq);
    if (Object.hasOwn(out, name)) throw new CommandUsageError(`--secret ${name} is given twice`, command);
    out[name] = pair.slice(eq + 1);
  }
  return out;
}
