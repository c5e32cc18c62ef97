// Clone with context benchmark on the local XMTP node.
// Run: npm run bench:clone   (starts a throwaway PostgreSQL; prints figures)
//
// Every part real: the local XMTP node (its own process), the templates and
// claims services on PostgreSQL and a real instance host with the offline
// model (in this process), the claims service running its warm pool on that
// host. One conversation creator (`startCreator` of @convos-pool/testing/convos, an SDK client) makes a
// conversation per claim and adds whoever asks to join; it also owns the
// agents. A parent agent is claimed into a conversation and taught a few
// facts there; then, alternating one by one, BENCH_CLONES (20) clones of it
// into new conversations, each from the clone request until the child has
// taken in its summary (seen on the host), and as many plain claims with join
// (from the request until its answer: the agent is in its conversation).
// The figure that matters is the ratio: a clone costs a claim with join plus
// the parent's summary and its delivery. Targets: clone p99 <= 2 s and
// clone / plain claim <= 1.5.
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { InheritanceState, InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { callerHeaders, createLogger, generateServiceCredentials } from "@convos-pool/kit/server";
import { signClone } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { figures, fmt, size, type Child } from "./lib.js";
import { startInProcessPool } from "./in-process-pool.js";

const CLONES = size("BENCH_CLONES", 20, 2);
const WARMUP = 2;
const TARGET = 8;
const FACTS = [
  "Always confirm the date before booking.",
  "Remember that I am vegetarian.",
  "Remember that our hotel in Japan is the Park Hyatt.",
  "Never suggest chain restaurants.",
];
const DIRECTIVE = "General travel knowledge but not the Japan trip details";
const CREDS = generateServiceCredentials();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000, every = 5): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "bench-clone-"));
  const children: Child[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const { host, creator, claimsSc, templatesSc } = await startInProcessPool({
      name: "bench_clone",
      dir,
      creds: CREDS,
      log: (name) => createLogger(name, { level: "error" }),
      pool: { target: TARGET, intervalMs: 200 },
      children,
      closers,
    });
    const t = await signedTemplate(templatesSc.client, newIdentity(), sampleContent({ tools: [] }), "public");
    const owner = { inboxId: creator.inboxId, account: creator.account };
    const call = { timeoutMs: 120_000, headers: callerHeaders(owner.inboxId) };
    const idle = () => [...host.instances.values()].filter((i) => i.health().state === InstanceState.IDLE).length;
    const untilWarm = () => until(`${TARGET} idle agents`, () => idle() >= TARGET, 180_000, 50);

    // The parent: claimed into a conversation, taught there by its creator (the owner).
    await untilWarm();
    const home = await creator.conversation("Tokyo trip");
    const { instanceId: parentId } = await claimsSc.client.claim(
      { requester: owner.inboxId, templateId: t.id, conversationInvite: home.invite },
      call,
    );
    const parent = host.instances.get(parentId)!;
    const group = creator.group(home.groupId)!;
    for (const fact of FACTS) await group.sendText(fact);
    await until("the parent to learn", () => (parent.memorySnapshot?.entries.length ?? 0) >= FACTS.length, 30_000, 20);

    const plain = async () => {
      const conv = await creator.conversation("Plain");
      const t0 = performance.now();
      await claimsSc.client.claim(
        { requester: owner.inboxId, templateId: t.id, conversationInvite: conv.invite },
        call,
      );
      return performance.now() - t0;
    };
    const clone = async () => {
      const conv = await creator.conversation("Clone");
      const fields = {
        ownerId: owner.inboxId,
        parentInstanceId: parentId,
        templateId: t.id,
        templateCreatorId: t.creatorId,
        conversationInvite: conv.invite,
        contextPrompt: DIRECTIVE,
        carry: [],
        model: "",
        userConfig: {},
      };
      const t0 = performance.now();
      const ownerSignature = await signClone(owner.account, fields);
      const res = await claimsSc.client.claim(
        {
          requester: owner.inboxId,
          cloneFrom: parentId,
          templateId: t.id,
          templateCreatorId: t.creatorId,
          conversationInvite: conv.invite,
          contextPrompt: DIRECTIVE,
          ownerSignature,
        },
        call,
      );
      if (res.inheritance?.state !== InheritanceState.SENT)
        throw new Error(`clone ${res.instanceId}: the summary was not sent (${res.inheritance?.error})`);
      const child = host.instances.get(res.instanceId)!;
      const answered = performance.now() - t0;
      await until(
        "the child to take its summary in",
        () => child.inheritanceSnapshot?.state === "inherited",
        30_000,
        2,
      );
      const ms = performance.now() - t0;
      const kept = child.memorySnapshot!.entries.map((e) => e.text);
      if (kept.length !== 3 || kept.some((k) => /japan/i.test(k)))
        throw new Error(`clone ${res.instanceId} inherited ${JSON.stringify(kept)}`);
      return { ms, answered };
    };

    for (let i = 0; i < WARMUP; i++) {
      await untilWarm();
      await plain();
      await clone();
    }
    const plainMs: number[] = [];
    const cloneMs: number[] = [];
    const cloneAnswerMs: number[] = [];
    for (let i = 0; i < CLONES; i++) {
      // One at a time, alternating, each on a full warm pool: both rows see the same machine.
      await untilWarm();
      plainMs.push(await plain());
      await untilWarm();
      const c = await clone();
      cloneMs.push(c.ms);
      cloneAnswerMs.push(c.answered);
    }

    const p = figures(plainMs);
    const c = figures(cloneMs);
    const a = figures(cloneAnswerMs);
    const lines = [
      `npm run bench:clone   (bench/clone.ts)`,
      `local XMTP node (own process), templates and claims services on PostgreSQL, a real instance host with the offline model,`,
      `warm pool target ${TARGET}; a parent taught ${FACTS.length} facts; ${CLONES} clones and ${CLONES} plain claims with join, alternating, one at a time`,
      `(after ${WARMUP} of each as warm-up); every clone checked: 3 entries inherited, none about Japan; ${availableParallelism()} cores`,
      ``,
      `                                                     p50 ms    p99 ms   mean ms   target`,
      `${"plain claim with join (request -> answer)".padEnd(50)}${fmt(p.p50, 9)} ${fmt(p.p99, 9)} ${fmt(p.mean, 9)}`,
      `${"clone: request -> answer (summary sent)".padEnd(50)}${fmt(a.p50, 9)} ${fmt(a.p99, 9)} ${fmt(a.mean, 9)}`,
      `${"clone: request -> child has taken its summary in".padEnd(50)}${fmt(c.p50, 9)} ${fmt(c.p99, 9)} ${fmt(c.mean, 9)}   p99 <= 2000 ms`,
      `${"clone / plain claim with join (p50)".padEnd(50)}${(c.p50 / p.p50).toFixed(2).padStart(9)}   <= 1.5`,
      `${"clone / plain claim with join (mean)".padEnd(50)}${(c.mean / p.mean).toFixed(2).padStart(9)}`,
    ];
    console.log(lines.join("\n"));
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
