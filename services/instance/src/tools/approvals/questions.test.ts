// The owner's questions (questions.ts) waiting on a clock the test advances
// (TestClock): the question's message is a stand-in (`say` returns its id),
// the rest is the product's own.
import { describe, expect, it } from "vitest";
import { ApprovalPlace } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { createLogger } from "@convos-pool/kit/server";
import { TestClock, waitFor } from "@convos-pool/testing";
import { APPROVAL_TIMEOUT_MS } from "./policy.js";
import { OwnerQuestions } from "./questions.js";

function questions(clock: TestClock, approvalTimeoutMs?: number) {
  const said: string[] = [];
  const q = new OwnerQuestions(
    {
      log: createLogger("questions", { level: "silent" }),
      clock,
      ...(approvalTimeoutMs !== undefined ? { approvalTimeoutMs } : {}),
      say: async (text) => {
        said.push(text);
        return `question-${said.length}`;
      },
      ownerName: () => "Saul",
    },
    () => ApprovalPlace.UNSPECIFIED,
  );
  return { q, said };
}

describe("a question to the owner on a clock", () => {
  it("is a no once its clock passes the timeout (ten minutes by default) and not a moment before, and a yes after it approves nothing", async () => {
    const clock = new TestClock();
    const { q, said } = questions(clock);
    const answered = q.forCall("pay 0.001 ETH to Bob", false);
    await waitFor("the question said", () => said.length === 1);
    const [listed] = q.list();
    // Read from the clock when the question was posed, before its message was said.
    expect(listed!.expiresAtMs - listed!.askedAtMs).toBeGreaterThan(APPROVAL_TIMEOUT_MS - 1_000);
    expect(listed!.expiresAtMs - listed!.askedAtMs).toBeLessThanOrEqual(APPROVAL_TIMEOUT_MS);
    let answer: string | undefined;
    void answered.then((a) => (answer = a));
    clock.advance(APPROVAL_TIMEOUT_MS - 1_000);
    await new Promise((r) => setImmediate(r));
    expect([answer, q.any]).toEqual([undefined, true]);
    clock.advance(1_000);
    expect(await answered).toBe("timeout");
    expect(q.any).toBe(false);
    expect(q.answer({ kind: "reply", to: "question-1", text: "yes" })).toBe(false);
  });

  it("takes the owner's yes before its time is up, and its wait then ends", async () => {
    const clock = new TestClock();
    const { q, said } = questions(clock, 60_000);
    const answered = q.forCall("text Mom", false);
    await waitFor("the question said", () => said.length === 1);
    expect(q.answer({ kind: "reply", to: "question-1", text: "yes" })).toBe(true);
    expect(await answered).toBe("yes");
    expect(clock.pending).toBe(0);
  });
});

describe("a question for the owner alone (askPrivately)", () => {
  function withLine(direct: boolean) {
    const said: string[] = [];
    const asked: string[] = [];
    const line = {
      async ask(text: string) {
        asked.push(text);
        return `direct-${asked.length}`;
      },
      async buttons() {},
      idle() {},
    };
    const q = new OwnerQuestions(
      {
        log: createLogger("questions", { level: "silent" }),
        say: async (text) => {
          said.push(text);
          return `group-${said.length}`;
        },
        ownerName: () => "Saul",
        conversationName: () => "Weekend away",
        ...(direct ? { direct: line } : {}),
      },
      // The owner chose to be asked in the conversation.
      () => ApprovalPlace.CONVERSATION,
    );
    return { q, said, asked };
  }

  it("is asked in the owner's direct conversation whatever they chose, and its conversation is told nothing", async () => {
    const { q, said, asked } = withLine(true);
    const answered = q.askPrivately("Set my trust level to L3, no spending.");
    await waitFor("asked", () => asked.length === 1);
    expect(asked[0]).toMatch(/^Saul, may I do this in “Weekend away”\?\n\nSet my trust level to L3/);
    expect(said).toEqual([]);
    expect(q.answer({ kind: "reply", to: "direct-1", text: "yes" })).toBe(true);
    await expect(answered).resolves.toBe("yes");
  });

  it("is not listed for answers from outside, and no signed answer answers it", async () => {
    const { q, asked } = withLine(true);
    const answered = q.askPrivately("Set my trust level to L3, no spending.");
    await waitFor("asked", () => asked.length === 1);
    expect(q.list()).toEqual([]);
    expect(q.answerSigned("direct-1", "yes")).toBe(false);
    expect(q.answer({ kind: "reply", to: "direct-1", text: "no" })).toBe(true);
    await expect(answered).resolves.toBe("no");
  });

  it("is asked in its conversation when it has no direct line to the owner", async () => {
    const { q, said } = withLine(false);
    const answered = q.askPrivately("Set my trust level to L3, no spending.");
    await waitFor("asked", () => said.length === 1);
    expect(said[0]).toMatch(/^Saul, may I do this\?\n\nSet my trust level to L3/);
    expect(q.answer({ kind: "reply", to: "group-1", text: "no" })).toBe(true);
    await expect(answered).resolves.toBe("no");
  });
});
