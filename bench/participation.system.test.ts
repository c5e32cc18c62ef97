// bench/participation.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/participation.ts", [
  new RegExp(`answered \\(names it\\)\\s+${number} ms\\s+${number}`),
  new RegExp(`ignored \\(does not name it\\)\\s+${number} ms\\s+${number}`),
]);
