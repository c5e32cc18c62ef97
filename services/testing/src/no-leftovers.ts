// A vitest setup file of the integration tier (vitest.config.ts): its files
// share their workers, so a process one file started and did not stop would
// run on beside the next files, taking their CPU and ports. After each file,
// every child process of the worker must be gone; the file that left one
// fails, naming it.
import { readFileSync, readdirSync } from "node:fs";
import { afterAll } from "vitest";
import { waitFor } from "./wait.js";

/** The worker's child processes still running (Linux /proc), with their command lines. */
function children(): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    let pids: string[] = [];
    try {
      pids = readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    } catch {
      continue; // a thread gone meanwhile
    }
    for (const pid of pids) {
      try {
        const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
        if (state === "Z") continue; // exited, not yet reaped
        const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
        found.push({ pid: Number(pid), command });
      } catch {
        // exited meanwhile
      }
    }
  }
  return found;
}

afterAll(async () => {
  if (process.platform !== "linux") return;
  // A stop that was asked for may take a moment to end the process.
  await waitFor("the processes this file started to exit", () => children().length === 0, 10_000, 100).catch(() => {
    const left = children();
    for (const { pid } of left) process.kill(pid, "SIGKILL");
    throw new Error(
      `this file left ${left.length} process(es) running (killed now): ${left.map((c) => `${c.pid} ${c.command.slice(0, 160)}`).join("; ")}`,
    );
  });
}, 20_000);
