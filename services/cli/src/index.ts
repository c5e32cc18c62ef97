// `pool`, the command line, as a package: run it with arguments and an Io
// (main.ts), and the key file it signs with (core/key-store.ts).
export { run, type Io } from "./main.js";
export {
  convosWalletKey,
  createKey,
  loadKey,
  DEFAULT_KEY_FILE,
  type Identity,
  type LoadedKey,
} from "./core/key-store.js";
/** An agent's OpenClaw workspace written out (commands/openclaw/export.ts), and the import's report. */
export { exportWorkspace } from "./commands/openclaw/export.js";
export type { ImportReport, WorkspaceFile } from "./commands/openclaw/workspace.js";
