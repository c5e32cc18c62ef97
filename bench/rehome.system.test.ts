// bench/rehome.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/rehome.ts", [
  new RegExp(`per agent: p50\\s+${number} s, p99\\s+${number} s`),
  new RegExp(`every agent:\\s+${number} s,\\s+${number} s per 100 agents`),
]);
