// `pool`, the command line, as a package: run it with arguments and an Io
// (main.ts), and the key file it signs with (key-store.ts).
export { run, type Io } from "./main.js";
export {
  convosWalletKey,
  createKey,
  loadKey,
  DEFAULT_KEY_FILE,
  type Identity,
  type LoadedKey,
} from "./key-store.js";
/** An agent's OpenClaw workspace read in and written out (openclaw.ts). */
export { exportWorkspace, type ImportReport, type WorkspaceFile } from "./openclaw.js";
