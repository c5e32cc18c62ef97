// bench/live-agents.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/live-agents.ts", [
  new RegExp(`claimed, awake\\s+${number} MB`),
  new RegExp(`wake to answer, \\d+ dormant agents one at a time: p50\\s+${number} ms`),
]);
