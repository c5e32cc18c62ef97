// bench/instances.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/instances.ts", [new RegExp(`per idle instance: ${number} MB RSS`)]);
