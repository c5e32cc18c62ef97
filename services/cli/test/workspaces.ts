// Test fixtures: OpenClaw workspaces written the way OpenClaw writes them
// (its templates' headings, list forms and placeholders), in our own words.
import { fileURLToPath } from "node:url";

/** Marlow, a ship's navigator: every workspace file, USER.md and HEARTBEAT.md included. */
export const MARLOW_WORKSPACE = fileURLToPath(new URL("./openclaw/marlow", import.meta.url));
