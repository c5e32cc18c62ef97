// bench/budget.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/budget.ts", [new RegExp(`granted / anchor \\(p50\\)\\s+${number}`)]);
