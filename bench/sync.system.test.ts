// bench/sync.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/sync.ts", [
  new RegExp(`N = 20: ratio per host / per agent\\s+${number}`),
  new RegExp(`N = 20: ratio per host / bare\\s+${number}`),
]);
