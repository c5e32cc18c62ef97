// How long the owner waits for an answer while two members and outsiders
// flood the agent, against no flood, in the same run: the owner's turn goes
// ahead of every member's and outsider's (docs/instance.md, "Whose turn
// comes next"), so under the flood it should wait at most the turn running
// when it asked, not every turn queued before it.
// Run: flock /tmp/bench.lock npm run bench:flood   (a throwaway PostgreSQL; about a minute)
//   BENCH_FLOOD_QUESTIONS (10)   the owner's questions in each phase, one at a time
//   BENCH_FLOOD_MODEL_MS (300)   what each model call takes
//
// What it does (FloodedConversation, @convos-pool/instance/testing/flood): the local
// XMTP node and one instance host in this process, the model a local
// OpenAI-compatible server here that takes BENCH_FLOOD_MODEL_MS a call (an
// answer and learning from it: two a member's answered text). One agent with
// a number on the local SMS stand-in joins its owner's conversation through
// a real invite; two members who are people (plain SDK clients, never
// declared agents) are added. Phase one: the owner asks, waits for the
// answer, asks again. Phase two: the same while both members name the agent
// as fast as they can send and strangers text its number every 200 ms.
// Each question is timed from the owner's send to its answer in the
// conversation (read back by the owner's client, polling every 50 ms). The
// model budget is off (callsPerMinute 0), so that the queue alone stands
// between the flood and the owner; with it on, members' shares of the
// budget end their flood sooner (docs/performance/budget.md).
//
// What it does not exercise: a real model, approvals (the test does:
// src/agent/conversation/flood.int.test.ts), the processes apart (one event loop here
// runs the clients, the host and the model stand-in).
import { setTimeout as sleep } from "node:timers/promises";
import { FloodedConversation } from "@convos-pool/instance/testing/flood";
import { waitFor } from "@convos-pool/testing";
import { closeAll, figures, fmt, size } from "./lib.js";

const QUESTIONS = size("BENCH_FLOOD_QUESTIONS", 10, 2);
const MODEL_MS = size("BENCH_FLOOD_MODEL_MS", 300, 100);
const log = (s: string) => process.stderr.write(`[bench:flood] ${s}\n`);

const stack = new FloodedConversation({ name: "bench-flood", modelMs: MODEL_MS, callsPerMinute: 0 });
try {
  await stack.start();
  log(
    `an agent, its owner, two members and outsiders; the model ${MODEL_MS} ms a call; ${QUESTIONS} questions a phase`,
  );
  await stack.ownerAsks(); // warm: its first turn loads what later turns reuse

  const quiet: number[] = [];
  for (let i = 0; i < QUESTIONS; i++) quiet.push(await stack.ownerAsks());

  const flood = stack.flood();
  await waitFor(
    "the members' turns under way",
    async () => stack.chat.requests.length >= 2 * QUESTIONS + 8,
    60_000,
    50,
  );
  await sleep(2 * MODEL_MS);
  const flooded: number[] = [];
  for (let i = 0; i < QUESTIONS; i++) flooded.push(await stack.ownerAsks());
  await flood.stop();
  const said = (await stack.said()).length;

  const q = figures(quiet);
  const f = figures(flooded);
  console.log(
    `the owner's question, send to answer, ${QUESTIONS} a phase; the model ${MODEL_MS} ms a call (two a member's answered text):`,
  );
  console.log(`                                   p50 ms      p99 ms`);
  console.log(`  no flood                       ${fmt(q.p50, 8)}    ${fmt(q.p99, 8)}`);
  console.log(`  two members and outsiders      ${fmt(f.p50, 8)}    ${fmt(f.p99, 8)}`);
  console.log(`  flood / no flood (p99)         ${fmt(f.p99 / q.p99, 8)}`);
  console.log(`  the agent said ${said} messages in all; model calls: ${stack.chat.requests.length}`);
} finally {
  // Its directory goes with it (OneHost.close).
  await closeAll([["the flooded conversation", () => stack.close()]]);
}
// Whatever a client's native side still holds, the benchmark is over (the other benchmarks end so too).
process.exit(0);
