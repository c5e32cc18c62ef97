export { DEFAULT_DEVNODE_PORT, startDevnode, type DevnodeOptions, type RunningDevnode } from "./server.js";
export { NETWORK_LIMITS, type RateLimits } from "./rate-limit.js";
