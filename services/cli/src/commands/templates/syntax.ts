// The syntax of a creator's templates: create, read, change, list, and the hashes of content files (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import { PAGE, type CommandSyntax } from "../../core/syntax.js";

/** A new version of the content (update, patch, rollback): based on version N, with release notes, signed past a wallet removal. */
const NEW_VERSION = {
  options: ["version", "notes", "acknowledge-wallet-removal"],
  flags: "[--version N] [--notes TEXT] [--acknowledge-wallet-removal]",
} as const;

/** A change of the template's standing (publish, unpublish, archive, delete): of ID, based on version N. */
const STANDING = { args: ["ID"], options: ["version"], synopsis: "ID [--version N]" } as const;

export const TEMPLATE_COMMANDS = {
  create: {
    args: ["FILE"],
    options: [],
    synopsis: "FILE.json",
    summary: "create a private template from a content file",
  },
  get: {
    args: ["ID"],
    options: ["resolve"],
    synopsis: "ID [--resolve]",
    summary: "print one template; --resolve adds what its agents run on, with its bases applied",
  },
  update: {
    args: ["ID", "FILE"],
    options: NEW_VERSION.options,
    synopsis: `ID FILE.json ${NEW_VERSION.flags}`,
    summary:
      "replace the content (based on version N; default: the current one), with release notes; a version without the pool's wallet needs --acknowledge-wallet-removal",
  },
  patch: {
    args: ["ID", "FILE"],
    options: NEW_VERSION.options,
    synopsis: `ID FILE.json ${NEW_VERSION.flags}`,
    summary: "change only the content fields present in FILE.json",
  },
  publish: {
    ...STANDING,
    summary: "make the template public (the store)",
  },
  unpublish: {
    ...STANDING,
    summary: "make the template private again",
  },
  archive: {
    ...STANDING,
    summary: "archive: hidden from the store and new claims, history kept",
  },
  delete: {
    ...STANDING,
    summary: "delete the template and its history for good",
  },
  versions: {
    args: ["ID"],
    options: ["limit", "cursor"],
    synopsis: `ID ${PAGE}`,
    summary: "version history, newest first",
  },
  instances: {
    args: ["ID"],
    options: ["live", "limit", "cursor"],
    synopsis: `ID [--live] ${PAGE}`,
    summary: "the template's instances with their instruction-sync state (creator only)",
  },
  rollback: {
    args: ["ID", "TARGET"],
    options: NEW_VERSION.options,
    synopsis: `ID TARGET ${NEW_VERSION.flags}`,
    summary: "new version with the content of version TARGET",
  },
  browse: {
    args: [],
    options: ["q", "category", "sort", "limit", "cursor"],
    synopsis: `[--q TEXT] [--category C] [--sort relevance|newest|most_used|top_rated] ${PAGE}`,
    summary: "the public store",
  },
  models: {
    args: [],
    options: [],
    synopsis: "",
    summary: "the models a template may name on this pool, its default first",
  },
  mine: {
    args: [],
    options: ["archived", "limit", "cursor"],
    synopsis: `[--archived] ${PAGE}`,
    summary: "my templates, private ones included",
  },
  "content-hash": {
    args: ["FILE"],
    options: [],
    synopsis: "FILE.json",
    summary: "print the contentHash of a content file (defaults filled)",
  },
  "patch-hash": { args: ["FILE"], options: [], synopsis: "FILE.json", summary: "print the patchHash of a patch file" },
} as const satisfies Record<string, CommandSyntax>;
