// bench/overload.ts still runs: in quick mode, to its end, printing its levels and its goals (bench/quick.ts).
import { runsToItsEnd, number } from "./quick.js";

runsToItsEnd("bench/overload.ts", [
  new RegExp(`capacity \\(closed loop, 100 claims by 50 claimers, deadline 2000 ms\\): ${number} claims/s answered`),
  new RegExp(`4x offered \\(${number}/s\\)\\s+goodput\\s+${number}/s`),
  /goal: no claim half done: 0 rows left claiming, \d+ claimed for \d+ claims answered/,
  new RegExp(`REST mix capacity \\(closed loop, 60 requests by 20 callers.*\\): ${number} requests/s answered`),
  /REST 4x offered[^\n]*\n\s+claim\s+offered[^\n]*\n\s+listing\s+offered[^\n]*\n\s+dashboard\s+offered/,
]);
