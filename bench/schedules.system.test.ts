// bench/schedules.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/schedules.ts", [
  new RegExp(`timers \\(pg-boss, timers\\.ts\\)\\s+\\d+ of \\d+\\s+p50\\s+${number} ms\\s+p99\\s+${number} ms`),
  new RegExp(`anchor: rows, FOR UPDATE SKIP LOCKED\\s+\\d+ of \\d+\\s+p50\\s+${number} ms\\s+p99\\s+${number} ms`),
  /every firing once: yes/,
  /goal: a weekly 9:00 fires at 9:00 local both weeks: met/,
]);
