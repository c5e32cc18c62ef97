// What a test chat may ask (policy.ts): each refusal names its field; and
// how an answer is taken from the creator's allowance and the pool's, the
// two counted here in memory (the kit's memoryRates) in place of the
// service's PostgreSQL (draft-chat.int.test.ts in services/e2e counts there).
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { DraftLineSchema } from "@convos-pool/gen/convos/pool/v1/draft_chat_pb.js";
import { contentFromJson, fieldViolations } from "@convos-pool/kit/content";
import { DEFAULT_LIMITS, RateLimit, limitExceededOf, memoryRates, type Rate } from "@convos-pool/kit/server";
import { sampleContent } from "@convos-pool/kit/testing";
import {
  DRAFT_ANSWERS,
  MAX_LINES,
  POOL_ANSWERS,
  busyForEveryone,
  checkTryDraft,
  takeAnswer,
  type Allowance,
} from "./policy.js";

const content = contentFromJson(sampleContent());
const line = (text: string, fromAgent = false) => create(DraftLineSchema, { text, fromAgent });
const fieldOf = (req: Parameters<typeof checkTryDraft>[0]) => {
  try {
    checkTryDraft(req);
  } catch (err) {
    const e = ConnectError.from(err);
    expect(e.code).toBe(Code.InvalidArgument);
    return fieldViolations(e).map((v) => v.field);
  }
  return [];
};

describe("checkTryDraft", () => {
  it("takes a draft and a chat that ends with the creator's line", () => {
    expect(fieldOf({ templateId: "", content, lines: [line("Hi"), line("Hello", true), line("Where to?")] })).toEqual(
      [],
    );
  });

  it("refuses what it cannot answer, naming the field", () => {
    expect(fieldOf({ templateId: "nope", content, lines: [line("Hi")] })).toEqual(["template_id"]);
    expect(fieldOf({ templateId: "", lines: [line("Hi")] })).toEqual(["content"]);
    expect(fieldOf({ templateId: "", content: { ...content, agentName: "" }, lines: [line("Hi")] })).toEqual([
      "content.agent_name",
    ]);
    expect(fieldOf({ templateId: "", content, lines: [] })).toEqual(["lines"]);
    expect(
      fieldOf({ templateId: "", content, lines: Array.from({ length: MAX_LINES + 1 }, () => line("Hi")) }),
    ).toEqual(["lines"]);
    expect(fieldOf({ templateId: "", content, lines: [line("Hi"), line(" ")] })).toEqual(["lines[1].text"]);
    expect(fieldOf({ templateId: "", content, lines: [line("Hi"), line("Hello", true)] })).toEqual(["lines"]);
  });

  it("names every bad field of one request at once", () => {
    expect(
      fieldOf({
        templateId: "nope",
        content: { ...content, agentName: "", instructions: " " },
        lines: [line("Hi"), line(" "), line("Hello", true)],
      }),
    ).toEqual(["template_id", "content.agent_name", "content.instructions", "lines[1].text", "lines"]);
    expect(fieldOf({ templateId: "nope", lines: [] })).toEqual(["template_id", "content", "lines"]);
  });

  it("gives a creator 30 answers in 10 minutes", () => {
    expect(DRAFT_ANSWERS).toEqual({ points: 30, seconds: 600 });
  });
});

describe("takeAnswer", () => {
  const allowances = (perCreator: Rate, perPool: Rate | undefined) => ({
    perCreator: new RateLimit("test chat answers per creator", perCreator, memoryRates),
    perPool: new RateLimit(POOL_ANSWERS, perPool, memoryRates),
  });
  const outcome = (p: Promise<void>) =>
    p.then(
      () => "answered",
      (err: unknown) => limitExceededOf(err)?.limit ?? String(err),
    );

  it("bounds the pool as a whole: a crowd of inboxes, each under its own allowance, gets the pool's answers and no more", async () => {
    const a = allowances({ points: 30, seconds: 600 }, { points: 5, seconds: 600 });
    const got = [];
    for (let i = 0; i < 8; i++) got.push(await outcome(takeAnswer(a, `inbox-${i}`)));
    expect(got).toEqual([...Array<string>(5).fill("answered"), ...Array<string>(3).fill(POOL_ANSWERS)]);
  });

  it("checks the creator's allowance first: a creator past theirs spends none of the pool's", async () => {
    const a = allowances({ points: 2, seconds: 600 }, { points: 3, seconds: 600 });
    const got = [];
    for (let i = 0; i < 5; i++) got.push(await outcome(takeAnswer(a, "greedy")));
    expect(got).toEqual(["answered", "answered", ...Array<string>(3).fill("test chat answers per creator")]);
    // The pool had 2 of its 3 taken, not 5: one more creator is answered.
    expect(await outcome(takeAnswer(a, "other"))).toBe("answered");
    expect(await outcome(takeAnswer(a, "third"))).toBe(POOL_ANSWERS);
  });

  it("gives the creator's answer back when the pool refuses, or cannot count", async () => {
    const a = allowances({ points: 1, seconds: 600 }, { points: 1, seconds: 600 });
    expect(await outcome(takeAnswer(a, "first"))).toBe("answered");
    // Refused by the pool, over and over: the creator's one answer is still theirs.
    for (let i = 0; i < 3; i++) expect(await outcome(takeAnswer(a, "second"))).toBe(POOL_ANSWERS);
    await a.perCreator.take("second");

    const away: Allowance = {
      take: () => Promise.reject(new ConnectError("the database is away", Code.Unavailable)),
      giveBack: () => Promise.resolve(),
    };
    const creator = new RateLimit("test chat answers per creator", { points: 1, seconds: 600 }, memoryRates);
    const err = await takeAnswer({ perCreator: creator, perPool: away }, "c").catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.Unavailable);
    await creator.take("c");
  });

  it("is the creator's allowance alone when the pool's is off", async () => {
    const a = allowances({ points: 50, seconds: 600 }, undefined);
    for (let i = 0; i < 50; i++) await takeAnswer(a, `inbox-${i}`);
  });
});

describe("busyForEveryone", () => {
  it("says so in people's terms, in minutes rounded up, with LimitExceeded and Retry-After in seconds", () => {
    const err = busyForEveryone(421);
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toBe("the test chat is busy for everyone right now; try again in 8 minutes");
    expect(limitExceededOf(err)).toEqual({ limit: POOL_ANSWERS, retryAfterSeconds: 421 });
    expect(err.metadata.get("retry-after")).toBe("421");
    expect(busyForEveryone(1).rawMessage).toBe("the test chat is busy for everyone right now; try again in a minute");
    expect(busyForEveryone(60).rawMessage).toMatch(/try again in a minute$/);
    expect(busyForEveryone(61).rawMessage).toMatch(/try again in 2 minutes$/);
  });

  it("is reached at 300 answers in 10 minutes for the whole pool by default: ten creators' allowances at once", () => {
    expect(DEFAULT_LIMITS.testChatAnswersPerPool).toEqual({ points: 300, seconds: 600 });
    expect(DEFAULT_LIMITS.testChatAnswersPerPool!.points).toBe(10 * DRAFT_ANSWERS.points);
  });
});
