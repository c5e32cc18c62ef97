// The syntax of `pool rollout …` (docs/cli.md, "Rollouts"): a template's
// staged rollouts, a command of two words each; the commands are
// commands.ts's, and command-line/table.ts lists every area's.
import type { CommandSyntax } from "../../core/syntax.js";

/** The arguments of a rollout's steps and reads. */
const ARGS = ["TEMPLATE_ID", "ROLLOUT_ID"] as const;
const SYNOPSIS = "TEMPLATE_ID ROLLOUT_ID";

export const ROLLOUT_COMMANDS = {
  "rollout start": {
    args: ["TEMPLATE_ID", "FILE"],
    options: ["share", "bound", "false-alarm", "notes", "acknowledge-wallet-removal"],
    synopsis:
      "TEMPLATE_ID FILE.json --share PERCENT [--bound SIGNAL=BOUND ...] [--false-alarm RATE] [--notes TEXT] [--acknowledge-wallet-removal]",
    summary:
      "ship FILE.json's content as a new version to PERCENT of my template's conversations first; the pool halts it, back to the current version, if it does worse by a bound (signed: the update, the way back, the start)",
  },
  "rollout widen": {
    args: ARGS,
    options: ["share"],
    synopsis: `${SYNOPSIS} --share PERCENT`,
    summary: "give a running rollout a larger share; the conversations it had stay in it (signed)",
  },
  "rollout pause": {
    args: ARGS,
    options: [],
    synopsis: SYNOPSIS,
    summary: "pause a rollout: no agent moves to the new version, those on it stay (signed)",
  },
  "rollout resume": { args: ARGS, options: [], synopsis: SYNOPSIS, summary: "resume a paused rollout (signed)" },
  "rollout promote": {
    args: ARGS,
    options: [],
    synopsis: SYNOPSIS,
    summary: "every conversation follows the new version: the rollout ends as an update would (signed)",
  },
  "rollout roll-back": {
    args: ARGS,
    options: [],
    synopsis: SYNOPSIS,
    summary:
      "end a rollout: the fallback, the current content again, becomes the next version and every agent follows it (signed)",
  },
  "rollout list": {
    args: ["TEMPLATE_ID"],
    options: ["limit", "cursor"],
    synopsis: "TEMPLATE_ID [--limit N] [--cursor C]",
    summary: "my template's rollouts, newest first",
  },
  "rollout show": {
    args: ARGS,
    options: [],
    synopsis: SYNOPSIS,
    summary: "one rollout as text: its state, share, bounds, steps with their times, and the watch's figures",
  },
} as const satisfies Record<string, CommandSyntax>;
