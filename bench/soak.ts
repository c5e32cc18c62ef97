// Soak: the whole pool under a steady mixed load for a set time, sampled as
// it goes. Run: npm run soak   (SOAK_SECONDS, default 300; BENCH_QUICK=1: 10)
// The pool as `npm start` runs it, on PostgreSQL: the local XMTP node in its
// own process, the templates and claims services and an instance host (the
// offline model) in this one, a warm pool of 6. The load, all at once:
//   - claims with their XMTP join into new conversations, one every 3 s, the
//     oldest agent removed once 6 are live (so instances are replaced);
//   - a template update every 10 s, reaching every live agent (sync);
//   - store searches, 10 a second;
//   - a message to a live agent every second, timed until its answer.
// Every 5 s a sample: memory (this process and the node's), each load's
// count, errors and p50/p99 in that window. At the end: the totals, and how
// memory moved (the second half's growth per minute). Exits 1 on any error,
// a caller's or one a service logged.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { StoreSort } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { NO_LIMITS, callerHeaders, createLogger, freePort, generateServiceCredentials } from "@convos-pool/kit/server";
import { signOperation } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate, signedUpdate } from "@convos-pool/kit/testing";
import { QUICK, figures, fmt, median, size, type Child } from "./lib.js";
import { startInProcessPool } from "./in-process-pool.js";

const SECONDS = size("SOAK_SECONDS", 300, 10);
const SAMPLE_MS = QUICK ? 2_000 : 5_000;
const TARGET = 6;
const LIVE = 6;
const CREDS = generateServiceCredentials();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Load = "claim" | "update" | "search" | "message";
const LOADS: Load[] = ["claim", "update", "search", "message"];

class Window {
  readonly ms = new Map<Load, number[]>(LOADS.map((l) => [l, []]));
  readonly errors = new Map<Load, number>(LOADS.map((l) => [l, 0]));
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "soak-"));
  const children: Child[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  const firstErrors: string[] = [];
  let serviceErrors = 0;
  try {
    // An error any service logs is an error of the soak too (a failed Release, say), even when no caller saw it.
    const log = (name: string) =>
      createLogger(name, {
        level: "error",
        sink: (line) => {
          serviceErrors++;
          if (firstErrors.length < 5) firstErrors.push(`${name} logged: ${line.slice(0, 300)}`);
        },
      });
    const claimsPort = await freePort();
    const { node, host, creator, claimsSc, templatesSc } = await startInProcessPool({
      name: "soak",
      dir,
      creds: CREDS,
      log,
      pool: { target: TARGET, intervalMs: 500 },
      templates: { sync: { claimsUrl: `http://127.0.0.1:${claimsPort}` }, limits: NO_LIMITS },
      claims: { port: claimsPort },
      children,
      closers,
    });

    const author = newIdentity();
    let template: Template = await signedTemplate(templatesSc.client, author, sampleContent({ tools: [] }), "public");
    const owner = { headers: callerHeaders(creator.inboxId), timeoutMs: 120_000 };
    const live: { instanceId: string; groupId: string; inboxId: string }[] = [];
    const idle = () => [...host.instances.values()].filter((i) => i.health().state === InstanceState.IDLE).length;
    while (idle() < TARGET) await sleep(100);

    let window = new Window();
    const timed = async (load: Load, fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      try {
        await fn();
        window.ms.get(load)!.push(performance.now() - t0);
      } catch (err) {
        window.errors.set(load, window.errors.get(load)! + 1);
        if (firstErrors.length < 5) firstErrors.push(`${load}: ${(err as Error).message.split("\n")[0]}`);
      }
    };
    /** `fn` every `ms`; the function returned stops it and resolves once its last call finished. */
    const every = (ms: number, fn: () => Promise<void>) => {
      let running: Promise<void> | undefined;
      const timer = setInterval(() => {
        if (running) return; // one at a time per load: a slow one is not piled on
        running = fn().finally(() => (running = undefined));
      }, ms);
      return async () => {
        clearInterval(timer);
        await running;
      };
    };

    const claim = () =>
      timed("claim", async () => {
        const conv = await creator.conversation("Soak");
        const res = await claimsSc.client.claim(
          { requester: creator.inboxId, templateId: template.id, conversationInvite: conv.invite },
          owner,
        );
        live.push({
          instanceId: res.instanceId,
          groupId: conv.groupId,
          inboxId: host.instances.get(res.instanceId)!.inboxId,
        });
        if (live.length > LIVE) {
          const instanceId = live.shift()!.instanceId;
          const ownerSignature = await signOperation(creator.account, "RemoveAgent", {
            inboxId: creator.inboxId,
            instanceId,
          });
          await claimsSc.client.removeAgent({ instanceId, ownerSignature }, owner);
        }
      });
    const update = () =>
      timed("update", async () => {
        template = await signedUpdate(
          templatesSc.client,
          author,
          template,
          `You help. Revision ${randomBytes(4).toString("hex")}.`,
        );
      });
    const WORDS = ["trip", "food", "plan", "music", "code", "health"];
    const search = () =>
      timed("search", () =>
        templatesSc.client.browseStore({
          query: WORDS[Math.floor(Math.random() * WORDS.length)]!,
          sort: StoreSort.MOST_USED,
          pageSize: 20,
        }),
      );
    const message = async () => {
      const agent = live[Math.floor(Math.random() * live.length)];
      if (agent)
        await timed("message", () =>
          creator.ask(
            agent.groupId,
            agent.inboxId,
            `Remember that the meeting is at ${Math.floor(Math.random() * 12) + 1}pm.`,
          ),
        );
    };

    const started = performance.now();
    const samples: { at: number; rss: number; heap: number; node: number; w: Window }[] = [];
    const stops = [
      every(3_000, claim),
      every(QUICK ? 3_000 : 10_000, update),
      every(100, search),
      every(1_000, message),
    ];
    console.log(
      `soak: ${SECONDS} s of claims with join (every 3 s, ${LIVE} live), template updates (every 10 s), store searches (10/s), messages (1/s)`,
    );
    console.log(
      `${"t s".padStart(5)} ${"pool MB".padStart(8)} ${"heap MB".padStart(8)} ${"node MB".padStart(8)}  ` +
        LOADS.map((l) => `${l} n/err/p50/p99`.padStart(26)).join(""),
    );
    while (performance.now() - started < SECONDS * 1000) {
      await sleep(SAMPLE_MS);
      const w = window;
      window = new Window();
      const m = process.memoryUsage();
      const sample = {
        at: (performance.now() - started) / 1000,
        rss: m.rss / 2 ** 20,
        heap: m.heapUsed / 2 ** 20,
        node: rssMb(node.pid),
        w,
      };
      samples.push(sample);
      const cell = (l: Load) => {
        const ms = w.ms.get(l)!;
        const f = ms.length ? figures(ms) : { p50: 0, p99: 0 };
        return `${ms.length}/${w.errors.get(l)}/${f.p50.toFixed(0)}/${f.p99.toFixed(0)}`.padStart(26);
      };
      console.log(
        `${sample.at.toFixed(0).padStart(5)} ${fmt(sample.rss)} ${fmt(sample.heap)} ${fmt(sample.node)}  ${LOADS.map(cell).join("")}`,
      );
    }
    await Promise.all(stops.map((stop) => stop())); // the last calls finished

    const all = (l: Load) => samples.flatMap((s) => s.w.ms.get(l)!);
    const errors = (l: Load) => samples.reduce((n, s) => n + s.w.errors.get(l)!, 0);
    const half = samples.slice(Math.floor(samples.length / 2));
    const slope = (pick: (s: (typeof samples)[number]) => number) => {
      if (half.length < 2) return 0;
      const xs = half.map((s) => s.at / 60);
      const ys = half.map(pick);
      const mx = xs.reduce((a, b) => a + b) / xs.length;
      const my = ys.reduce((a, b) => a + b) / ys.length;
      const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
      const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
      return den ? num / den : 0;
    };
    console.log(
      `\n${"load".padEnd(10)}${"count".padStart(8)}${"errors".padStart(8)}${"p50 ms".padStart(10)}${"p99 ms".padStart(10)}`,
    );
    for (const l of LOADS) {
      const f = all(l).length ? figures(all(l)) : { p50: 0, p99: 0 };
      console.log(
        `${l.padEnd(10)}${String(all(l).length).padStart(8)}${String(errors(l)).padStart(8)}${fmt(f.p50, 10)}${fmt(f.p99, 10)}`,
      );
    }
    console.log(
      `\nmemory: pool ${fmt(median(samples.slice(0, 3).map((s) => s.rss)), 0)} MB at the start, ${fmt(median(half.map((s) => s.rss)), 0)} MB (median) in the second half; ` +
        `second-half growth: pool ${slope((s) => s.rss).toFixed(2)} MB/min, heap ${slope((s) => s.heap).toFixed(2)} MB/min, node ${slope((s) => s.node).toFixed(2)} MB/min`,
    );
    const total = LOADS.reduce((n, l) => n + errors(l), 0) + serviceErrors;
    console.log(
      `errors: ${total}${serviceErrors ? ` (${serviceErrors} logged by the services)` : ""}${firstErrors.length ? `; first: ${firstErrors.join("; ")}` : ""}`,
    );
    if (total > 0) process.exitCode = 1;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(process.exitCode ?? 0);
