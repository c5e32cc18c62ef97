// bench/llm-cost.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/llm-cost.ts", [
  new RegExp(`before \\(no budget, no caps\\)\\s+${number}\\s+[\\d,]+\\s+[\\d,]+\\s+[\\d,]+`),
  new RegExp(`after \\(the defaults\\)\\s+${number}\\s+[\\d,]+\\s+[\\d,]+\\s+[\\d,]+`),
  new RegExp(`after / before\\s+${number}\\s+${number}`),
]);
