export { DEFAULT_DEVNODE_PORT, startDevnode, type DevnodeOptions, type RunningDevnode } from "./server.js";
