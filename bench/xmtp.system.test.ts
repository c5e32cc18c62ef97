// bench/xmtp.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/xmtp.ts", [
  new RegExp(`ratio SDK / node alone \\(stream\\)\\s+${number}`),
  /node RPCs per SDK message: /,
]);
