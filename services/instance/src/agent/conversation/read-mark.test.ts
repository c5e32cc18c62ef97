// How far the agent has read (read-mark.ts), in memory: messages arrive in
// the order they were sent and are done in any order (the owner's overtake
// a member's, a turn parks, a message is dropped); a restart at any moment
// reads again exactly what is not done yet.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { DONE_AFTER_KEPT, isDone, markDone, type ReadMark, type Sent } from "./read-mark.js";

const START: ReadMark = { lastSeenNs: "0" };

/** The n-th message sent, ns strictly increasing. */
function sent(n: number): Sent {
  return { id: `m${n}`, sentAtNs: BigInt(1_000 + n * 10) };
}

/** What happens next: the next message arrives, or the waiting one at this index (mod how many wait) is done. */
const step = fc.oneof(fc.constant("arrive" as const), fc.nat({ max: 50 }));

/** Runs `steps`: at every moment, what a restart would read again, and what was not done then. */
function simulate(steps: ("arrive" | number)[]): { reread: string[]; notDone: string[] }[] {
  let mark = START;
  let arrived = 0;
  const waiting: Sent[] = [];
  const moments: { reread: string[]; notDone: string[] }[] = [];
  for (const s of steps) {
    if (s === "arrive") waiting.push(sent(arrived++));
    else if (waiting.length > 0) {
      const [done] = waiting.splice(s % waiting.length, 1);
      mark = markDone(
        mark,
        done!,
        waiting.map((w) => w.sentAtNs),
      );
    }
    const all = Array.from({ length: arrived }, (_, n) => sent(n));
    moments.push({
      reread: all.filter((m) => !isDone(mark, m)).map((m) => m.id),
      notDone: waiting.map((m) => m.id).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))),
    });
  }
  return moments;
}

describe("the read position", () => {
  test.prop([fc.array(step, { maxLength: 120 })])(
    "after a restart at any moment, for any order of arrival and handling, reads again exactly what was not done",
    (steps) => {
      for (const { reread, notDone } of simulate(steps)) expect(reread).toEqual(notDone);
    },
  );

  test.prop([fc.array(step, { maxLength: 120 })])(
    "keeps no more ids than it must: none at or before the mark, and none once nothing waits",
    (steps) => {
      let mark = START;
      let arrived = 0;
      const waiting: Sent[] = [];
      for (const s of steps) {
        if (s === "arrive") waiting.push(sent(arrived++));
        else if (waiting.length > 0) {
          const [done] = waiting.splice(s % waiting.length, 1);
          mark = markDone(
            mark,
            done!,
            waiting.map((w) => w.sentAtNs),
          );
        }
        for (const d of mark.doneAfter ?? []) expect(BigInt(d.sentAtNs)).toBeGreaterThan(BigInt(mark.lastSeenNs));
        if (waiting.length === 0) expect(mark.doneAfter).toBeUndefined();
      }
    },
  );

  it("does not pass a member's message the owner's overtook, and passes it once it is done", () => {
    const [member, owner1, owner2] = [sent(0), sent(1), sent(2)];
    let mark = markDone(START, owner1, [member.sentAtNs, owner2.sentAtNs]);
    mark = markDone(mark, owner2, [member.sentAtNs]);
    expect(mark).toEqual({
      lastSeenNs: "0",
      doneAfter: [
        { id: "m1", sentAtNs: "1010" },
        { id: "m2", sentAtNs: "1020" },
      ],
    });
    expect(isDone(mark, member)).toBe(false);
    expect(markDone(mark, member, [])).toEqual({ lastSeenNs: "1020" });
  });

  it("lets a dropped message go as done: it does not hold the mark back", () => {
    const [dropped, next] = [sent(0), sent(1)];
    expect(markDone(markDone(START, dropped, [next.sentAtNs]), next, [])).toEqual({ lastSeenNs: "1010" });
  });

  it("reads a state.json of before (only lastSeenNs) as the mark with nothing done after it", () => {
    const old: ReadMark = JSON.parse('{"lastSeenNs":"1010"}') as ReadMark;
    expect(isDone(old, sent(1))).toBe(true);
    expect(isDone(old, sent(2))).toBe(false);
    expect(markDone(old, sent(2), [])).toEqual({ lastSeenNs: "1020" });
  });

  it(`keeps at most ${DONE_AFTER_KEPT} ids past a message that waits, then moves the mark past it rather than read twice what is done`, () => {
    const stuck = sent(0);
    let mark = START;
    const done: Sent[] = [];
    for (let n = 1; n <= DONE_AFTER_KEPT + 5; n++) {
      done.push(sent(n));
      mark = markDone(mark, sent(n), [stuck.sentAtNs]);
      expect((mark.doneAfter ?? []).length).toBeLessThanOrEqual(DONE_AFTER_KEPT);
      for (const d of done) expect(isDone(mark, d)).toBe(true);
    }
    expect(isDone(mark, stuck)).toBe(true);
  });

  it("returns the same mark when the message was done already", () => {
    const mark = markDone(START, sent(1), [sent(0).sentAtNs]);
    expect(markDone(mark, sent(1), [sent(0).sentAtNs])).toBe(mark);
  });
});
