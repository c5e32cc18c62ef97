// bench/clone.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/clone.ts", [new RegExp(`clone / plain claim with join \\(p50\\)\\s+${number}`)]);
