// The per-minute budget of model calls (budget.ts), in memory: its shares,
// the owner's reserve, one member's share, the window, the busy notice.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  BUSY_NOTICE_EVERY_MS,
  LLM_LIMITS,
  MODEL_CALLS_PER_MINUTE,
  ModelBudget,
  noticeDue,
  shares,
  spend,
  type Spent,
} from "./budget.js";

const OWNER = { by: "owner", owner: true };
const member = (n: number) => ({ by: `member-${n}`, owner: false });

/** Asks for each call at `now` in turn, as the conversation does; the allowed ones. */
function run(calls: { by: string; owner: boolean }[], now = 1_000_000, perMinute = MODEL_CALLS_PER_MINUTE) {
  let spent: Spent[] = [];
  const allowed: string[] = [];
  for (const c of calls) {
    const r = spend(spent, c, now, perMinute);
    spent = r.spent;
    if (r.allowed) allowed.push(c.by);
  }
  return { allowed, spent };
}

describe("the model's budget", () => {
  it("is 60 calls a minute, a third kept for the owner, a member at most half of the rest", () => {
    expect(MODEL_CALLS_PER_MINUTE).toBe(60);
    expect(LLM_LIMITS.callsPerMinute).toBe(60);
    expect(shares(60)).toEqual({ total: 60, ownerReserve: 20, members: 40, perConversation: 40, perMember: 20 });
    // Tiny budgets still let a member be answered at all.
    expect(shares(1)).toEqual({ total: 1, ownerReserve: 0, members: 1, perConversation: 1, perMember: 1 });
  });

  it("refuses one member past their share, and other members still get theirs", () => {
    const { allowed } = run([...Array.from({ length: 30 }, () => member(1)), member(2)]);
    expect(allowed.filter((b) => b === "member-1")).toHaveLength(20);
    expect(allowed).toContain("member-2");
  });

  it("refuses every member once members used their part, while the owner keeps the reserve", () => {
    const flood = Array.from({ length: 100 }, (_, i) => member(i % 5));
    const { allowed, spent } = run([...flood, ...Array.from({ length: 25 }, () => OWNER)]);
    expect(allowed.filter((b) => b !== "owner")).toHaveLength(40);
    expect(allowed.filter((b) => b === "owner")).toHaveLength(20);
    expect(spent).toHaveLength(60);
    expect(spend(spent, OWNER, 1_000_000, 60)).toMatchObject({ allowed: false, refused: "budget" });
    expect(spend(spent, member(9), 1_000_000, 60)).toMatchObject({ allowed: false, refused: "budget" });
  });

  it("says why: the whole budget, members' part, or this member's share", () => {
    const members40 = run(Array.from({ length: 40 }, (_, i) => member(i))).spent;
    expect(spend(members40, member(99), 0 + 1_000_000, 60)).toMatchObject({ allowed: false, refused: "members" });
    const one20 = run(Array.from({ length: 20 }, () => member(1))).spent;
    expect(spend(one20, member(1), 1_000_000, 60)).toMatchObject({ allowed: false, refused: "member" });
  });

  it("the owner may use all of it, members' unused part included", () => {
    expect(run(Array.from({ length: 70 }, () => OWNER)).allowed).toHaveLength(60);
  });

  it("a call leaves the window a minute after it was made, and a refused call is not counted", () => {
    const { spent } = run(Array.from({ length: 20 }, () => member(1)));
    const refused = spend(spent, member(1), 1_000_000 + 59_999, 60);
    expect(refused).toMatchObject({ allowed: false });
    expect(refused.spent).toHaveLength(20);
    const later = spend(spent, member(1), 1_000_000 + 60_000, 60);
    expect(later.allowed).toBe(true);
    expect(later.spent).toHaveLength(1);
  });

  it("0 calls a minute is no budget: everything allowed, nothing kept", () => {
    expect(
      run(
        Array.from({ length: 500 }, () => member(1)),
        0,
        0,
      ),
    ).toEqual({
      allowed: Array.from({ length: 500 }, () => "member-1"),
      spent: [],
    });
  });

  test.prop([
    fc.array(fc.record({ by: fc.constantFrom("owner", "a", "b", "c"), dt: fc.integer({ min: 0, max: 5_000 }) }), {
      maxLength: 400,
    }),
    fc.integer({ min: 1, max: 100 }),
  ])("in no minute are more calls allowed than the budget, nor members' more than theirs", (calls, perMinute) => {
    let spent: Spent[] = [];
    let now = 0;
    const allowed: Spent[] = [];
    for (const c of calls) {
      now += c.dt;
      const call = { by: c.by, owner: c.by === "owner" };
      const r = spend(spent, call, now, perMinute);
      spent = r.spent;
      if (r.allowed) allowed.push({ at: now, ...call });
    }
    const s = shares(perMinute);
    for (const a of allowed) {
      const window = allowed.filter((x) => x.at > a.at - 60_000 && x.at <= a.at);
      expect(window.length).toBeLessThanOrEqual(s.total);
      expect(window.filter((x) => !x.owner).length).toBeLessThanOrEqual(s.members);
      for (const who of ["a", "b", "c"])
        expect(window.filter((x) => x.by === who).length).toBeLessThanOrEqual(s.perMember);
    }
  });
});

describe("the model's budget across conversations", () => {
  const inA = (n: number) => ({ by: `a-${n}`, owner: false, conversation: "A" });
  const inB = (n: number) => ({ by: `b-${n}`, owner: false, conversation: "B" });

  it("gives one conversation's members 30 of members' 40 once the agent is in two or more, all 40 while in one", () => {
    expect(shares(60, 1).perConversation).toBe(40);
    expect(shares(60, 2).perConversation).toBe(30);
    expect(shares(60, 10).perConversation).toBe(30);
  });

  it("stops the members of a busy conversation at 30, and another conversation's first call goes through", () => {
    const budget = new ModelBudget(
      () => 60,
      () => 2,
    );
    const flood = Array.from({ length: 50 }, (_, i) => budget.spend(inB(i % 5), 1_000_000));
    expect(flood.filter((r) => r.allowed)).toHaveLength(30);
    expect(flood.at(-1)).toEqual({ allowed: false, refused: "conversation" });
    expect(budget.spend(inA(1), 1_000_000)).toEqual({ allowed: true });
    expect(budget.spend({ by: "owner", owner: true, conversation: "B" }, 1_000_000)).toEqual({ allowed: true });
  });

  it("counts a call in one conversation in the agent's one budget", () => {
    const budget = new ModelBudget(
      () => 60,
      () => 2,
    );
    for (let i = 0; i < 60; i++) budget.spend({ by: "owner", owner: true, conversation: "B" }, 1_000_000);
    expect(budget.spend({ by: "owner", owner: true, conversation: "A" }, 1_000_000)).toEqual({
      allowed: false,
      refused: "budget",
    });
  });

  it("keeps today's rule with one conversation: members may use all 40", () => {
    const budget = new ModelBudget(() => 60);
    const r = Array.from({ length: 45 }, (_, i) => budget.spend(member(i % 4), 1_000_000));
    expect(r.filter((x) => x.allowed)).toHaveLength(40);
  });

  test.prop([
    fc.array(
      fc.record({
        by: fc.constantFrom("owner", "a", "b", "c"),
        conversation: fc.constantFrom("A", "B", "C"),
        dt: fc.integer({ min: 0, max: 5_000 }),
      }),
      { maxLength: 400 },
    ),
    fc.integer({ min: 1, max: 100 }),
    fc.integer({ min: 2, max: 10 }),
  ])("in no minute do one conversation's members take more than their share", (calls, perMinute, conversations) => {
    const budget = new ModelBudget(
      () => perMinute,
      () => conversations,
    );
    let now = 0;
    const allowed: Spent[] = [];
    for (const c of calls) {
      now += c.dt;
      const call = { by: c.by, owner: c.by === "owner", conversation: c.conversation };
      if (budget.spend(call, now).allowed) allowed.push({ at: now, ...call });
    }
    const s = shares(perMinute, conversations);
    for (const a of allowed) {
      const window = allowed.filter((x) => x.at > a.at - 60_000 && x.at <= a.at);
      expect(window.length).toBeLessThanOrEqual(s.total);
      for (const conversation of ["A", "B", "C"])
        expect(window.filter((x) => !x.owner && x.conversation === conversation).length).toBeLessThanOrEqual(
          s.perConversation,
        );
    }
  });
});

describe("the busy notice", () => {
  it("is said the first time, then at most once every ten minutes", () => {
    expect(BUSY_NOTICE_EVERY_MS).toBe(600_000);
    expect(noticeDue(undefined, 5)).toBe(true);
    expect(noticeDue(1_000, 1_000 + 599_999)).toBe(false);
    expect(noticeDue(1_000, 1_000 + 600_000)).toBe(true);
  });
});
