// An instance host offered ten times the turns its model can answer: does its
// owner still get answers about as fast as when it is quiet, and does every
// member hear what happens to their messages (docs/instance.md, "When the
// pool is busy")? Each member should be told once that it is busy, and each
// of their messages then answered or told "I could not get to this"; a
// message past the member's share of the queue is dropped and told once
// (TOO_MANY_WAITING, docs/instance.md "Whose turn comes next").
// Run: flock /tmp/bench.lock npm run bench:host-overload   (a throwaway PostgreSQL; about a minute)
//   BENCH_HOST_OVERLOAD_MODEL_MS (300)     what each model call takes (a member's answered text: two)
//   BENCH_HOST_OVERLOAD_SECONDS (20)       how long the members flood
//   BENCH_HOST_OVERLOAD_QUESTIONS (5)      the owner's questions in each phase, one at a time
//   BENCH_HOST_OVERLOAD_WITHIN_MS (3000)   how long a member's message may wait and still be answered
//                                          (the host's LLM_ANSWER_WITHIN_MS; its default, 2 minutes, is never
//                                          reached by a queue bounded at 3 a member and a model this fast)
//
// What it does (FloodedConversation, @convos-pool/instance/testing/flood): the local XMTP node and one
// instance host in this process, the model a local OpenAI-compatible server that takes MODEL_MS a call, the
// model budget off (the queue alone stands between the flood and the owner). One agent in its owner's
// conversation with two members who are people (plain SDK clients). The host can answer 1000 / (2 x
// MODEL_MS) member messages a second; the two members together send ten times that, each at a steady pace
// (an open loop: a send that takes longer than its slot is followed at once by the next). Phase one: the
// owner asks, waits for the answer, asks again. Phase two: the same during the flood. Then every member's
// message is matched with what the agent said in reply to it (the owner's view of the conversation, each
// reply by the id it references).
//
// What it does not exercise: a real model, outsiders' texts (bench:flood), several agents on one host
// sharing its model calls (each agent's queue is its own), the processes apart.
import { setTimeout as sleep } from "node:timers/promises";
import { FloodedConversation } from "@convos-pool/instance/testing/flood";
import { BUSY_ANSWER_SHORTLY, COULD_NOT_GET_TO_THIS, TOO_MANY_WAITING } from "@convos-pool/instance";
import { closeAll, figures, fmt, size } from "./lib.js";

const MODEL_MS = size("BENCH_HOST_OVERLOAD_MODEL_MS", 300, 100);
const SECONDS = size("BENCH_HOST_OVERLOAD_SECONDS", 20, 4);
const QUESTIONS = size("BENCH_HOST_OVERLOAD_QUESTIONS", 5, 2);
const WITHIN_MS = size("BENCH_HOST_OVERLOAD_WITHIN_MS", 3000, 3000);
const OFFERED = 10;
const ANSWER = "Here is a fact for you.";
const log = (s: string) => process.stderr.write(`[bench:host-overload] ${s}\n`);

const stack = new FloodedConversation({
  name: "bench-host-overload",
  modelMs: MODEL_MS,
  callsPerMinute: 0,
  answerWithinMs: WITHIN_MS,
});
try {
  await stack.start();
  const capacity = 1000 / (2 * MODEL_MS);
  const everyMs = (stack.members.length * 1000) / (OFFERED * capacity);
  log(
    `an agent, its owner and ${stack.members.length} members; the model ${MODEL_MS} ms a call: ${capacity.toFixed(2)} member messages a second; offered ${OFFERED}x, a message every ${everyMs.toFixed(0)} ms a member, for ${SECONDS} s`,
  );
  await stack.ownerAsks(); // warm: its first turn loads what later turns reuse
  const quiet: number[] = [];
  for (let i = 0; i < QUESTIONS; i++) quiet.push(await stack.ownerAsks());

  let flooding = true;
  let sent = 0;
  const t0 = performance.now();
  const member = async (who: number) => {
    const p = stack.members[who]!;
    for (let i = 0; flooding; i++) {
      const due = t0 + i * everyMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (!flooding) break;
      await p.send(stack.groupId, `Concierge, member ${who} wants fact ${i}`);
      sent++;
    }
  };
  const running = stack.members.map((_, who) => member(who));
  await sleep(Math.min(2_000, (SECONDS * 1000) / 4));
  const flooded: number[] = [];
  for (let i = 0; i < QUESTIONS; i++) flooded.push(await stack.ownerAsks());
  const left = SECONDS * 1000 - (performance.now() - t0);
  if (left > 0) await sleep(left);
  flooding = false;
  await Promise.all(running);
  const offeredPerSecond = sent / ((performance.now() - t0) / 1000);
  log(`${sent} member messages sent; waiting for the agent to work through them`);
  await stack.settled();
  await sleep(1_000);

  // Every member message, and what the agent said in reply to it (by the id a reply references).
  const group = stack.owner.group(stack.groupId)!;
  await group.sync();
  const all = await group.messages();
  const replies = new Map<string, string[]>();
  for (const m of all) {
    if (m.senderInboxId !== stack.agentInbox) continue;
    const c = m.content as { referenceId?: string; content?: unknown } | undefined;
    if (!c?.referenceId || typeof c.content !== "string") continue;
    replies.set(c.referenceId, [...(replies.get(c.referenceId) ?? []), c.content]);
  }
  const q = figures(quiet);
  const f = figures(flooded);
  console.log(
    `the owner's question, send to answer, ${QUESTIONS} a phase; the model ${MODEL_MS} ms a call (two a member's answered text):`,
  );
  console.log(`                                   p50 ms      p99 ms`);
  console.log(`  quiet                          ${fmt(q.p50, 8)}    ${fmt(q.p99, 8)}`);
  console.log(`  members at ${OFFERED}x capacity        ${fmt(f.p50, 8)}    ${fmt(f.p99, 8)}`);
  console.log(`  overloaded / quiet (p99)       ${fmt(f.p99 / q.p99, 8)}   (goal: at most 2)`);
  console.log(
    `members offered ${offeredPerSecond.toFixed(2)} messages a second against ${capacity.toFixed(2)} answerable (${(offeredPerSecond / capacity).toFixed(1)}x):`,
  );
  console.log("  member    sent  told busy  answered  could not  neither  (of which: told dropped)");
  let everyoneTold = true;
  for (const [n, p] of stack.members.entries()) {
    const mine = all.filter((m) => m.senderInboxId === p.inboxId && typeof m.content === "string");
    const said = (text: string) => mine.filter((m) => replies.get(m.id)?.includes(text)).length;
    const busy = said(BUSY_ANSWER_SHORTLY);
    const answered = said(ANSWER);
    const couldNot = said(COULD_NOT_GET_TO_THIS);
    // Neither answered nor declined: dropped past the member's share of the queue, told once (TOO_MANY_WAITING).
    const neither = mine.length - answered - couldNot;
    if (busy !== 1) everyoneTold = false;
    const cells = [n + 1, mine.length, busy, answered, couldNot, neither].map((x, i) =>
      String(x).padStart([6, 6, 9, 8, 9, 7][i]!),
    );
    console.log(`  ${cells.join("  ")}  (${said(TOO_MANY_WAITING)})`);
  }
  console.log(
    `  every member told busy once: ${everyoneTold ? "yes" : "no"}; model calls: ${stack.chat.requests.length}`,
  );
} finally {
  await closeAll([["the flooded conversation", () => stack.close()]]);
}
process.exit(0);
