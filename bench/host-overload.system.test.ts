// bench/host-overload.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/host-overload.ts", [
  new RegExp(`quiet\\s+${number}\\s+${number}`),
  new RegExp(`members at 10x capacity\\s+${number}\\s+${number}`),
  /every member told busy once: (yes|no)/,
]);
