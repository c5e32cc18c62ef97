// bench/flood.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/flood.ts", [
  new RegExp(`no flood\\s+${number}\\s+${number}`),
  new RegExp(`two members and outsiders\\s+${number}\\s+${number}`),
]);
