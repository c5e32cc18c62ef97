// bench/live-agents.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts), with each agent
// in its own conversation and with each in two (the second added by its owner through AddConversation).
import { number, runsToItsEnd } from "./quick.js";

runsToItsEnd("bench/live-agents.ts", [
  /dormant after setup: \d+ of \d+/,
  new RegExp(`claimed, awake\\s+${number} MB`),
  new RegExp(`wake to answer, \\d+ dormant agents one at a time: p50\\s+${number} ms`),
]);

// Agents in two conversations go dormant (a cursor in each) and a message in either wakes them.
runsToItsEnd(
  "bench/live-agents.ts",
  [
    /each in 2 conversations \(its home joined by invite, 1 added by its owner\)/,
    new RegExp(`add to a conversation \\(\\d+\\) p50\\s+${number} ms`),
    /dormant after setup: \d+ of \d+/,
    new RegExp(`claimed, awake\\s+${number} MB`),
    new RegExp(
      `wake to answer, \\d+ dormant agents one at a time, each in a random one of its 2 conversations: p50\\s+${number} ms`,
    ),
    new RegExp(
      `reply, \\d+ messages to random awake agents \\(of \\d+\\), each in a random one of its 2 conversations, 8 in flight: p50\\s+${number} ms`,
    ),
  ],
  { BENCH_LIVE_CONVERSATIONS: "2" },
);
