// Whose turn comes next (queue.ts), in memory, and the agent's turns
// that follow it (serial.ts Turns) with plain async jobs: the owner's first,
// a member's share, the order within a sender, a parked turn.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { Turns } from "./serial.js";
import {
  admits,
  CONVERSATION_TURNS_WAITING,
  MEMBER_TURNS_WAITING,
  nextUp,
  OUTSIDER_TURNS_WAITING,
  standingOf,
  type Standing,
  type Waiter,
} from "./queue.js";

const OWNER = "owner-inbox";
const AGENT = "agent-inbox";

/** Arrivals: who sends (the owner, one of three members, one of three numbers), and whether it may become a turn. */
const arrival = fc.record({
  standing: fc.constantFrom<Standing>("owner", "member", "outsider"),
  who: fc.integer({ min: 0, max: 2 }),
  counted: fc.boolean(),
});
/** What happens next: something arrives, or the next job starts. */
const step = fc.oneof(arrival, fc.constant("start" as const));

interface Job extends Waiter {
  n: number;
}

function waiterOf(a: { standing: Standing; who: number; counted: boolean }, n: number): Job {
  const sender = a.standing === "owner" ? OWNER : `${a.standing}-${a.who}`;
  return { standing: a.standing, sender, counted: a.counted, n };
}

/** Runs `steps` against the policy: what was admitted and started, in order, and what waited at each start. */
function simulate(steps: ("start" | { standing: Standing; who: number; counted: boolean })[]) {
  const waiting: Job[] = [];
  const admitted: Job[] = [];
  const started: { job: Job; waiting: Job[] }[] = [];
  let n = 0;
  for (const s of steps) {
    if (s === "start") {
      const i = nextUp(waiting);
      if (i < 0) continue;
      const before = [...waiting];
      const [job] = waiting.splice(i, 1);
      started.push({ job: job!, waiting: before });
    } else {
      const w = waiterOf(s, n++);
      if (!admits(waiting, w)) continue;
      waiting.push(w);
      admitted.push(w);
    }
    // The invariants hold after every step.
    for (const sender of new Set(waiting.map((w) => w.sender))) {
      const counted = waiting.filter((w) => w.sender === sender && w.counted && w.standing === "member").length;
      expect(counted).toBeLessThanOrEqual(MEMBER_TURNS_WAITING);
    }
    expect(waiting.filter((w) => w.counted && w.standing === "outsider").length).toBeLessThanOrEqual(
      OUTSIDER_TURNS_WAITING,
    );
  }
  return { admitted, started };
}

describe("whose turn comes next", () => {
  test.prop([fc.array(step, { maxLength: 80 })])(
    "the owner's turn is always next while one waits, and otherwise a member's before an outsider's",
    (steps) => {
      for (const { job, waiting } of simulate(steps).started) {
        if (waiting.some((w) => w.standing === "owner")) expect(job.standing).toBe("owner");
        else if (waiting.some((w) => w.standing === "member")) expect(job.standing).toBe("member");
      }
    },
  );

  test.prop([fc.array(step, { maxLength: 80 })])("no member ever has more than their share waiting", (steps) => {
    simulate(steps); // the invariants are checked at every step
  });

  test.prop([fc.array(step, { maxLength: 80 })])("each sender's jobs start in the order they came", (steps) => {
    const { started } = simulate(steps);
    const bySender = new Map<string, number[]>();
    for (const { job } of started) bySender.set(job.sender, [...(bySender.get(job.sender) ?? []), job.n]);
    for (const ns of bySender.values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
  });

  test.prop([fc.array(step, { maxLength: 80 })])(
    "the owner's messages and the agent's own work are never turned away",
    (steps) => {
      const owners = steps.filter((s) => s !== "start" && s.standing === "owner").length;
      expect(simulate(steps).admitted.filter((j) => j.standing === "owner")).toHaveLength(owners);
    },
  );

  it(`turns a member away past ${MEMBER_TURNS_WAITING} texts waiting, and lets their reactions and other members through`, () => {
    const ana = (counted = true): Waiter => ({ standing: "member", sender: "ana", counted });
    const waiting = Array.from({ length: MEMBER_TURNS_WAITING }, () => ana());
    expect(admits(waiting, ana())).toBe(false);
    expect(admits(waiting, ana(false))).toBe(true);
    expect(admits(waiting, { standing: "member", sender: "bob", counted: true })).toBe(true);
    expect(admits(waiting, { standing: "owner", sender: OWNER, counted: true })).toBe(true);
  });

  it(`lets ${OUTSIDER_TURNS_WAITING} texts from outside wait, from any numbers together`, () => {
    const text = (n: number): Waiter => ({ standing: "outsider", sender: `+1555000${n}`, counted: true });
    const waiting = Array.from({ length: OUTSIDER_TURNS_WAITING }, (_, i) => text(i));
    expect(admits(waiting, text(99))).toBe(false);
    expect(admits(waiting, { standing: "member", sender: "ana", counted: true })).toBe(true);
  });

  it("stands the owner and the agent itself first, anyone else as a member", () => {
    const who = { self: AGENT, ownerId: OWNER };
    expect(standingOf(OWNER, who)).toBe("owner");
    expect(standingOf(AGENT, who)).toBe("owner");
    expect(standingOf("ana", who)).toBe("member");
    expect(standingOf("ana", { self: AGENT, ownerId: undefined })).toBe("member");
  });
});

describe("whose turn comes next across conversations", () => {
  const m = (conversation: string, sender: string, counted = true): Waiter => ({
    standing: "member",
    sender,
    counted,
    conversation,
  });
  const own = (conversation: string): Waiter => ({ standing: "owner", sender: OWNER, counted: true, conversation });

  /** Starts jobs as Turns does, recording when each conversation's last member turn started. */
  function drain(waiting: Waiter[]): Waiter[] {
    const started = new Map<string | undefined, number>();
    const order: Waiter[] = [];
    for (let t = 1; waiting.length > 0; t++) {
      const [w] = waiting.splice(nextUp(waiting, started), 1);
      if (w!.standing === "member") started.set(w!.conversation, t);
      order.push(w!);
    }
    return order;
  }

  it("lets a member of A go second while a flood of B's members waits before them", () => {
    const flood = Array.from({ length: CONVERSATION_TURNS_WAITING }, (_, i) => m("B", `b-${i % 4}`));
    const order = drain([...flood, m("A", "ana")]);
    expect(order.findIndex((w) => w.conversation === "A")).toBeLessThanOrEqual(1);
  });

  it("starts the owner's turn in B before members of A who came first", () => {
    expect(nextUp([m("A", "ana"), m("A", "bob"), own("B")])).toBe(2);
  });

  it("takes members by conversation in turn, the one whose member turn started longest ago first", () => {
    const started = new Map([
      ["A", 5],
      ["B", 2],
    ]);
    expect(nextUp([m("A", "ana"), m("B", "bea")], started)).toBe(1);
    expect(nextUp([m("A", "ana"), m("C", "cid"), m("B", "bea")], started)).toBe(1);
  });

  it(`refuses the ${CONVERSATION_TURNS_WAITING + 1}th waiting member turn of one conversation while another still admits`, () => {
    expect(CONVERSATION_TURNS_WAITING).toBe(12);
    const waiting = Array.from({ length: CONVERSATION_TURNS_WAITING }, (_, i) => m("B", `b-${i % 6}`));
    expect(admits(waiting, m("B", "newcomer"))).toBe(false);
    expect(admits(waiting, m("B", "newcomer", false))).toBe(true);
    expect(admits(waiting, m("A", "ana"))).toBe(true);
    expect(admits(waiting, own("B"))).toBe(true);
  });

  it(`counts a member's ${MEMBER_TURNS_WAITING} waiting per conversation`, () => {
    const waiting = Array.from({ length: MEMBER_TURNS_WAITING }, () => m("A", "ana"));
    expect(admits(waiting, m("A", "ana"))).toBe(false);
    expect(admits(waiting, m("B", "ana"))).toBe(true);
  });

  const anywhere = fc.record({
    standing: fc.constantFrom<Standing>("owner", "member", "outsider"),
    who: fc.integer({ min: 0, max: 5 }),
    conversation: fc.constantFrom("A", "B", "C"),
    counted: fc.boolean(),
  });

  test.prop([fc.array(fc.oneof(anywhere, fc.constant("start" as const)), { maxLength: 120 })])(
    "for any arrivals in any conversations, the owner's waiting turn is next, and no conversation's members pass their share",
    (steps) => {
      const waiting: Waiter[] = [];
      const started = new Map<string | undefined, number>();
      for (const [t, s] of steps.entries()) {
        if (s === "start") {
          const i = nextUp(waiting, started);
          if (i < 0) continue;
          const ownerWaits = waiting.findIndex((w) => w.standing === "owner");
          if (ownerWaits >= 0) expect(i).toBe(ownerWaits);
          const [w] = waiting.splice(i, 1);
          if (w!.standing === "member") started.set(w!.conversation, t);
        } else {
          const sender = s.standing === "owner" ? OWNER : `${s.standing}-${s.who}`;
          const w: Waiter = { standing: s.standing, sender, counted: s.counted, conversation: s.conversation };
          if (admits(waiting, w)) waiting.push(w);
        }
        for (const c of ["A", "B", "C"]) {
          const members = waiting.filter((w) => w.counted && w.standing === "member" && w.conversation === c);
          expect(members.length).toBeLessThanOrEqual(CONVERSATION_TURNS_WAITING);
        }
      }
    },
  );

  test.prop([fc.array(fc.constantFrom("A", "B", "C"), { minLength: 1, maxLength: 40 })])(
    "members of waiting conversations take turns: none gets a second turn before every other waiting one had one",
    (arrivals) => {
      const order = drain(arrivals.map((c, i) => m(c, `${c}-${i % 2}`)));
      for (const [i, w] of order.entries()) {
        const j = order.findIndex((x, k) => k > i && x.conversation === w.conversation);
        if (j < 0) continue;
        // Every other conversation with a member still waiting after j had a turn between i and j.
        const between = new Set(order.slice(i + 1, j).map((x) => x.conversation));
        for (const x of order.slice(j + 1))
          if (x.conversation !== w.conversation) expect(between).toContain(x.conversation);
      }
    },
  );
});

describe("the agent's turns", () => {
  /** A job that records its start and ends when `release` is called. */
  function gated(log: string[], name: string) {
    let release!: () => void;
    const ended = new Promise<void>((r) => (release = r));
    return {
      job: async () => {
        log.push(name);
        await ended;
      },
      release: () => release(),
    };
  }
  const member = (sender: string): Waiter => ({ standing: "member", sender, counted: true });
  const owner: Waiter = { standing: "owner", sender: OWNER, counted: true };
  const tick = () => new Promise((r) => setImmediate(r));

  it("run the owner's next, ahead of members who came before, and turn away what is past a member's share", async () => {
    const turns = new Turns();
    const log: string[] = [];
    const first = gated(log, "ana-0");
    const done = [turns.offer(first.job, member("ana"))!];
    for (let i = 1; i <= MEMBER_TURNS_WAITING; i++)
      done.push(turns.offer(async () => void log.push(`ana-${i}`), member("ana"))!);
    expect(turns.offer(async () => void log.push("ana-dropped"), member("ana"))).toBeUndefined();
    done.push(turns.offer(async () => void log.push("bob-0"), member("bob"))!);
    done.push(turns.offer(async () => void log.push("owner"), owner)!);
    expect(turns.pending).toBe(MEMBER_TURNS_WAITING + 3);
    await tick();
    first.release();
    await Promise.all(done);
    expect(log).toEqual(["ana-0", "owner", "ana-1", "ana-2", "ana-3", "bob-0"]);
    expect(turns.pending).toBe(0);
  });

  it("let others run while one is parked, and go on with it first once its wait is over", async () => {
    const turns = new Turns();
    const log: string[] = [];
    let answer!: (a: string) => void;
    const answered = new Promise<string>((r) => (answer = r));
    const asking = turns.offer(async () => {
      log.push("asks");
      log.push(`told ${await turns.park(answered)}`);
    }, member("ana"))!;
    await tick();
    const bob = gated(log, "bob");
    const bobs = turns.offer(bob.job, member("bob"))!;
    const owners = turns.offer(async () => void log.push("owner"), owner)!;
    await tick();
    // Bob's turn runs while Ana's waits; the owner's comes after Bob's, since Bob's had started.
    expect(log).toEqual(["asks", "bob"]);
    answer("yes");
    await tick();
    expect(log).toEqual(["asks", "bob"]);
    bob.release();
    await Promise.all([asking, bobs, owners]);
    // Ana's turn goes on before the owner's waiting one: it had started.
    expect(log).toEqual(["asks", "bob", "told yes", "owner"]);
  });

  it("wait in place when parking outside a running job", async () => {
    const turns = new Turns();
    await expect(turns.park(Promise.resolve(7))).resolves.toBe(7);
  });

  it("settle idle() once every job queued before it has settled, failed ones too", async () => {
    const turns = new Turns();
    const log: string[] = [];
    const failing = turns.run(async () => {
      throw new Error("boom");
    });
    void turns.run(async () => void log.push("after"));
    await turns.idle();
    expect(log).toEqual(["after"]);
    await expect(failing).rejects.toThrow("boom");
  });
});
