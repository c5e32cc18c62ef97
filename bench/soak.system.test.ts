// bench/soak.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/soak.ts", [
  new RegExp(`^search\\s+\\d+\\s+0\\s+${number}`, "m"),
  new RegExp(`second-half growth: pool ${number} MB/min`),
  /^errors: 0$/m,
]);
