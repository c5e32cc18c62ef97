// The keys service as a package: how to run it (server.ts).
export { KEYS_ACCESS, type KeysServiceOptions, type RunningKeysService, startKeysService } from "./server.js";
