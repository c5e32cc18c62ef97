// bench/xmtp-clients.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/xmtp-clients.ts", [
  new RegExp(`dropped: growth per client after round 1: ${number} MB RSS`),
  new RegExp(`closed: growth per client after round 1: ${number} MB RSS`),
]);
