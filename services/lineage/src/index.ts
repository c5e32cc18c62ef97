// The lineage service as a package: how to run it (server.ts).
export {
  LINEAGE_ACCESS,
  startLineageService,
  type LineageServiceOptions,
  type RunningLineageService,
} from "./server.js";
