// The agent's daily counts (signals.ts): the pure functions in memory, and
// Signals on a real workspace in a temporary directory (a restart reads
// the day back). No stand-ins.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterEach, describe, expect, it } from "vitest";
import { Workspace } from "../../platform/workspace.js";
import {
  Signals,
  count,
  COUNTED,
  FINISHED_KEPT,
  answered,
  corrected,
  heard,
  personKeyOf,
  personOf,
  reacted,
  reports,
  rollOver,
  sent,
  stopped,
  toolFailed,
  utcDay,
  type DayCounts,
  type Release,
} from "./signals.js";

const V6: Release = { templateId: "tpl_a", version: "6" };
const V7: Release = { templateId: "tpl_a", version: "7" };
const DAY = Date.parse("2026-11-26T13:00:00Z");
const H = 3_600_000;

describe("reactions: one person, one message, one signal counts once a day", () => {
  const PEOPLE = ["inbox-ana", "inbox-bo"];
  const MESSAGES = ["m1", "m2"];
  const event = fc.record({
    inboxId: fc.constantFrom(...PEOPLE),
    messageId: fc.constantFrom(...MESSAGES),
    signal: fc.constantFrom("up" as const, "down" as const),
    by: fc.constantFrom(1 as const, -1 as const),
  });

  test.prop([fc.array(event, { maxLength: 300 })])(
    "whatever is sent, each count is the number of (person, message, signal) whose last word was an add",
    (events) => {
      let f = rollOver(undefined, "2026-11-26", V6, "salt1");
      const last = new Map<string, 1 | -1>();
      for (const { by, ...r } of events) {
        f = reacted(f, r, by);
        last.set(`${r.inboxId}/${r.messageId}/${r.signal}`, by);
      }
      const standing = (signal: string) => [...last].filter(([k, by]) => k.endsWith(`/${signal}`) && by === 1).length;
      expect(f.current.counts.thumbsUp).toBe(standing("up"));
      expect(f.current.counts.thumbsDown).toBe(standing("down"));
      expect(JSON.stringify(f)).not.toMatch(/inbox-|"m1"|"m2"/);
    },
  );

  it("500 👎 from one member on one answer count one; a taking back from yesterday takes nothing from today", () => {
    let f = rollOver(undefined, "2026-11-26", V6, "salt1");
    const r = { inboxId: "inbox-ana", messageId: "m1", signal: "down" as const };
    for (let i = 0; i < 500; i++) f = reacted(f, r, 1);
    expect(f.current.counts.thumbsDown).toBe(1);
    f = reacted(rollOver(f, "2026-11-27", V6, "salt2"), { ...r, inboxId: "inbox-bo" }, 1);
    f = reacted(f, r, -1);
    expect(f.current.counts.thumbsDown).toBe(1);
    expect(f.finished.map((d) => d.counts.thumbsDown)).toEqual([1]);
  });
});

describe("per person: a person's day, by a pseudonym no one can turn back without the hosts' key", () => {
  const KEY = new Uint8Array(32).fill(7);
  const D1 = "2026-11-26";
  const ana = personOf(KEY, V6, D1, "inbox-ana")!;
  const bo = personOf(KEY, V6, D1, "inbox-bo")!;

  it("one person is one pseudonym that day in every agent of the template, another the next day, another for another template; none for the creator or without a key", () => {
    expect(ana).toMatch(/^[0-9a-f]{64}$/);
    expect(personOf(KEY, V7, D1, "inbox-ana")).toBe(ana);
    expect(personOf(KEY, V6, "2026-11-27", "inbox-ana")).not.toBe(ana);
    expect(personOf(KEY, { templateId: "tpl_b", version: "6" }, D1, "inbox-ana")).not.toBe(ana);
    expect(personOf(new Uint8Array(32).fill(8), V6, D1, "inbox-ana")).not.toBe(ana);
    expect(personOf(KEY, { ...V6, creatorId: "inbox-ana" }, D1, "inbox-ana")).toBeUndefined();
    expect(personOf(undefined, V6, D1, "inbox-ana")).toBeUndefined();
  });

  it("takes the hosts' key as hex of 32 bytes or more, and refuses a shorter or malformed one", () => {
    expect(personKeyOf(undefined)).toBeUndefined();
    expect(personKeyOf("")).toBeUndefined();
    expect(personKeyOf("07".repeat(32))).toEqual(KEY);
    for (const bad of ["07".repeat(31), "zz".repeat(32), "7".repeat(65)])
      expect(() => personKeyOf(bad)).toThrow(/SIGNALS_PERSON_KEY/);
  });

  it("counts the answers it gave a person and their 👎 on those answers, once ever: not on an answer given to another, not again once taken back and sent again", () => {
    let f = rollOver(undefined, D1, V6, "salt1");
    f = answered(answered(answered(f, "m1", ana), "m2", ana), "m3", bo);
    const down = (m: string, inboxId: string, who: string | undefined, by: 1 | -1 = 1) =>
      (f = reacted(f, { inboxId, messageId: m, signal: "down" }, by, who));
    down("m1", "inbox-ana", ana);
    down("m1", "inbox-ana", ana);
    down("m3", "inbox-ana", ana); // bo's answer: the day's 👎, not ana's
    down("m2", "inbox-ana", ana);
    down("m2", "inbox-ana", ana, -1);
    expect(f.current.counts).toMatchObject({ answers: 3, thumbsDown: 2 });
    expect(reports(f).at(-1)?.persons).toEqual(
      [
        { person: ana, answers: 2, thumbsDown: 1, corrections: 0, stopRequests: 0, toolCallsFailed: 0 },
        { person: bo, answers: 1, thumbsDown: 0, corrections: 0, stopRequests: 0, toolCallsFailed: 0 },
      ].sort((a, b) => a.person.localeCompare(b.person)),
    );
    // The next day, yesterday's answer 👎'd again counts nowhere per person: its day is over.
    const ana2 = personOf(KEY, V6, "2026-11-27", "inbox-ana")!;
    f = rollOver(f, "2026-11-27", V6, "salt2");
    down("m1", "inbox-ana", ana2, -1);
    down("m1", "inbox-ana", ana2);
    expect(reports(f).at(-1)?.persons).toEqual([]);
    expect(f.finished[0]?.persons).toMatchObject({ [ana]: { answers: 2, thumbsDown: 1 } });
  });

  it("counts a person's corrections beside their answers; an answer to nobody a person adds to the day alone", () => {
    let f = answered(rollOver(undefined, D1, V6, "s"), "m1", undefined);
    f = corrected(answered(f, "m2", ana), ana);
    expect(f.current.counts.answers).toBe(2);
    expect(reports(f).at(-1)?.persons).toEqual([
      { person: ana, answers: 1, thumbsDown: 0, corrections: 1, stopRequests: 0, toolCallsFailed: 0 },
    ]);
  });

  it("counts the turns a person stopped and the tool calls that failed in turns answering them, in the day and per person; no person's (the creator's, an outsider's) in the day alone", () => {
    let f = answered(rollOver(undefined, D1, V6, "s"), "m1", ana);
    f = stopped(stopped(stopped(f, bo), bo), undefined);
    f = toolFailed(toolFailed(toolFailed(f, ana), ana), undefined);
    expect(f.current.counts).toMatchObject({ stopRequests: 3, toolCallsFailed: 3 });
    expect(reports(f).at(-1)?.persons).toEqual(
      [
        { person: ana, answers: 1, thumbsDown: 0, corrections: 0, stopRequests: 0, toolCallsFailed: 2 },
        { person: bo, answers: 0, thumbsDown: 0, corrections: 0, stopRequests: 2, toolCallsFailed: 0 },
      ].sort((a, b) => a.person.localeCompare(b.person)),
    );
  });

  const step = fc.oneof(
    fc.record({
      kind: fc.constant("answer" as const),
      m: fc.constantFrom("m1", "m2", "m3"),
      who: fc.constantFrom("ana", "bo", ""),
    }),
    fc.record({
      kind: fc.constant("react" as const),
      m: fc.constantFrom("m1", "m2", "m3", "old"),
      who: fc.constantFrom("ana", "bo"),
      by: fc.constantFrom(1 as const, -1 as const),
    }),
  );
  test.prop([fc.array(step, { maxLength: 200 })])(
    "whatever happens, a person's 👎 never pass the answers they were given, and the persons' answers never pass the day's",
    (steps) => {
      let f = rollOver(undefined, D1, V6, "salt1");
      const id = (who: string) => (who === "ana" ? ana : who === "bo" ? bo : undefined);
      for (const s of steps)
        f =
          s.kind === "answer"
            ? answered(f, s.m, id(s.who))
            : reacted(f, { inboxId: `inbox-${s.who}`, messageId: s.m, signal: "down" }, s.by, id(s.who));
      const persons = reports(f).at(-1)?.persons ?? [];
      for (const p of persons) expect(p.thumbsDown).toBeLessThanOrEqual(p.answers);
      expect(persons.reduce((n, p) => n + p.answers, 0)).toBeLessThanOrEqual(f.current.counts.answers);
      expect(JSON.stringify(f)).not.toMatch(/inbox-|"m1"|"m2"|"m3"/);
    },
  );
});

describe("the pure counts", () => {
  it("a day is the UTC day, whatever the local time", () => {
    expect(utcDay(Date.parse("2026-11-26T23:59:59Z"))).toBe("2026-11-26");
    expect(utcDay(Date.parse("2026-11-27T00:00:00Z"))).toBe("2026-11-27");
  });

  it("counts the same person once a day, and again the next day", () => {
    let f = rollOver(undefined, "2026-11-26", V6, "salt1");
    f = heard(heard(heard(f, "inbox-ana"), "inbox-ana"), "inbox-bo");
    expect(f.current.counts.people).toBe(2);
    f = heard(rollOver(f, "2026-11-27", V6, "salt2"), "inbox-ana");
    expect(f.current.counts.people).toBe(1);
    expect(f.finished.map((d) => d.counts.people)).toEqual([2]);
  });

  it("keeps no inbox id: who spoke is a salted hash, and the salt changes with the day", () => {
    let f = heard(rollOver(undefined, "2026-11-26", V6, "salt1"), "inbox-ana");
    expect(JSON.stringify(f)).not.toContain("inbox-ana");
    const first = f.heard[0];
    f = heard(rollOver(f, "2026-11-27", V6, "salt2"), "inbox-ana");
    expect(f.heard).toHaveLength(1);
    expect(f.heard[0]).not.toBe(first);
  });

  it("a new version starts new counts, and the last version's day waits to be sent", () => {
    let f = count(rollOver(undefined, "2026-11-26", V6, "s"), "answers", 3);
    f = count(rollOver(f, "2026-11-26", V7, "t"), "answers");
    expect(f.current).toMatchObject({ version: "7", counts: { answers: 1 } });
    expect(f.finished).toMatchObject([{ version: "6", day: "2026-11-26", counts: { answers: 3 } }]);
  });

  it("a reaction taken back takes its count back down, never below zero", () => {
    let f = count(rollOver(undefined, "2026-11-26", V6, "s"), "thumbsUp");
    f = count(count(f, "thumbsUp", -1), "thumbsUp", -1);
    expect(f.current.counts.thumbsUp).toBe(0);
  });

  it("what is sent holds no hash and no salt; a sent day is no longer kept", () => {
    let f = heard(count(rollOver(undefined, "2026-11-25", V6, "s"), "corrections"), "inbox-ana");
    f = rollOver(f, "2026-11-26", V6, "t");
    const out = reports(f);
    expect(out.map((d) => d.day)).toEqual(["2026-11-25", "2026-11-26"]);
    expect(JSON.stringify(out)).not.toMatch(/salt|heard|"s"|"t"/);
    expect(sent(f, out.slice(0, 1)).finished).toEqual([]);
  });

  it("counts pauses and stops like any count, and sends them", () => {
    let f = count(count(rollOver(undefined, "2026-11-26", V6, "s"), "pauses"), "stopRequests");
    f = count(f, "stopRequests");
    expect(COUNTED).toEqual(expect.arrayContaining(["pauses", "stopRequests"]));
    expect(reports(f).at(-1)?.counts).toMatchObject({ pauses: 1, stopRequests: 2, answers: 0 });
  });

  it("a day written before pauses and stops were counted sends zero of them, and counts them from zero", () => {
    const fresh = rollOver(undefined, "2026-11-26", V6, "s");
    const { pauses: _p, stopRequests: _s, ...older } = count(fresh, "answers").current.counts;
    const before = { ...fresh, current: { ...fresh.current, counts: older as DayCounts } };
    expect(reports(before).at(-1)?.counts).toMatchObject({ answers: 1, pauses: 0, stopRequests: 0 });
    expect(count(before, "pauses").current.counts.pauses).toBe(1);
  });

  it("keeps at most a week of ended days, and none in which nothing happened", () => {
    let f = rollOver(undefined, "2026-11-01", V6, "s");
    for (let d = 2; d <= 20; d++) f = rollOver(count(f, "answers"), `2026-11-${String(d).padStart(2, "0")}`, V6, "s");
    expect(f.finished).toHaveLength(FINISHED_KEPT);
    expect(rollOver(rollOver(undefined, "2026-11-01", V6, "s"), "2026-11-02", V6, "s").finished).toEqual([]);
  });
});

describe("Signals in a workspace", () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a restart keeps the day's counts and who was already counted", async () => {
    dir = await mkdtemp(join(tmpdir(), "signals-"));
    let now = DAY;
    const ws = new Workspace(dir, "inst_1");
    await ws.create();
    const a = new Signals(
      ws,
      () => V6,
      () => now,
    );
    a.count("answers");
    a.heard("inbox-ana");
    await a.settled();
    const onDisk = await readFile(join(dir, "instances", "inst_1", "signals.json"), "utf8");
    expect(onDisk).not.toContain("inbox-ana");

    now = DAY + H;
    const b = new Signals(
      ws,
      () => V6,
      () => now,
    );
    b.heard("inbox-ana");
    b.count("answers");
    expect((await b.reports()).at(-1)?.counts).toMatchObject({ answers: 2, people: 1 });
  });

  it("counts a stop and a failed tool call under the pseudonym of whoever made them, and the creator's under none", async () => {
    dir = await mkdtemp(join(tmpdir(), "signals-"));
    const ws = new Workspace(dir, "inst_3");
    await ws.create();
    const key = new Uint8Array(32).fill(7);
    const a = new Signals(
      ws,
      () => ({ ...V6, creatorId: "inbox-creator" }),
      () => DAY,
      key,
    );
    a.stopped("inbox-ana");
    a.stopped("inbox-creator");
    a.toolSignal("toolCallsFailed", "inbox-ana");
    a.toolSignal("approvalsDeclined");
    const [day] = await a.reports();
    expect(day?.counts).toMatchObject({ stopRequests: 2, toolCallsFailed: 1, approvalsDeclined: 1 });
    expect(day?.persons).toEqual([
      {
        person: personOf(key, V6, utcDay(DAY), "inbox-ana"),
        answers: 0,
        thumbsDown: 0,
        corrections: 0,
        stopRequests: 1,
        toolCallsFailed: 1,
      },
    ]);
  });

  it("counts nothing before a claim", async () => {
    dir = await mkdtemp(join(tmpdir(), "signals-"));
    const ws = new Workspace(dir, "inst_2");
    await ws.create();
    const a = new Signals(ws, () => undefined);
    a.count("answers");
    expect(await a.reports()).toEqual([]);
    expect(await a.settled()).toBeUndefined();
  });
});
