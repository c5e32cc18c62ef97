// bench/promotion.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/promotion.ts", [
  new RegExp(`Node's HTTP/2, bare\\s+${number}\\s+${number}`),
  new RegExp(`Connect over HTTP/1.1, client alone\\s+${number}`),
]);
