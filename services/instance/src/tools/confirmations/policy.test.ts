// What binds an owner's confirmation in Convos (policy.ts), pure: the step's
// canonical JSON, digest and code against a fixed vector (the web app's copy
// is held to the same one), its words, and what each answer does. No stand-ins.
import { describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ConfirmationState } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { resolvePermissions } from "@convos-pool/kit/content";
import {
  canonicalStep,
  confirmationCode,
  MAX_WAITING_CONFIRMATIONS,
  mayAsk,
  raisesAboveCap,
  SETTLED_KEPT_MS,
  settle,
  stepDigest,
  stepWords,
  stillKept,
  type Kept,
  type Step,
} from "./policy.js";

const INSTANCE = "inst_0123456789abcdef";
const OWNER = "a".repeat(64);
const LIST_DIGEST = "0x6e77fc231655f8f7f434b0e24cfb18f85ef754d0b4584a1cc17fdcd4f472bbf1";
const L3: Step = { kind: "set_trust_level", trustLevel: TrustLevel.OPERATOR, dailySpendLimitWei: "10000000000000000" };

function kept(step: Step = L3, state = ConfirmationState.WAITING): Kept {
  return {
    id: "0".repeat(32),
    ownerId: OWNER,
    step,
    digest: stepDigest(INSTANCE, step),
    state,
    detail: "",
    expiresAtMs: 0,
  };
}

describe("a step's digest", () => {
  it("is keccak256 of its canonical JSON, which names the version, the agent and the step's fields in a fixed order", () => {
    expect(canonicalStep(INSTANCE, L3)).toBe(
      '{"v":1,"instanceId":"inst_0123456789abcdef","step":"set_trust_level","trustLevel":3,"dailySpendLimitWei":"10000000000000000"}',
    );
    // The vector the web app's copy is held to (services/web/src/agent/confirm-words.test.ts).
    expect(stepDigest(INSTANCE, L3)).toBe("0x547b75e2acc33196f05388c5df4403d9943cfddfaadffedaf7b5b739583a49f1");
    expect(confirmationCode(stepDigest(INSTANCE, L3))).toBe("547B-75E2");
  });

  it("differs for another agent, another level, another limit, another answer or other permissions", () => {
    const digests = new Set([
      stepDigest(INSTANCE, L3),
      stepDigest("inst_fedcba9876543210", L3),
      stepDigest(INSTANCE, { ...L3, trustLevel: TrustLevel.AUTONOMOUS }),
      stepDigest(INSTANCE, { ...L3, dailySpendLimitWei: "10000000000000001" }),
      stepDigest(INSTANCE, { kind: "answer_approval", questionId: "q1", approve: true }),
      stepDigest(INSTANCE, { kind: "answer_approval", questionId: "q1", approve: false }),
      stepDigest(INSTANCE, { kind: "set_permissions", permissions: resolvePermissions(undefined) }),
      stepDigest(INSTANCE, {
        kind: "set_permissions",
        permissions: { ...resolvePermissions(undefined), memberCrypto: 1 },
      }),
    ]);
    expect(digests.size).toBe(8);
  });

  it("names the page's key for a listing of memory, so a listing sealed to another key is another step", () => {
    const list: Step = { kind: "list_memory", recipientKey: `0x${"11".repeat(32)}`, feedbackOnly: false };
    expect(canonicalStep(INSTANCE, list)).toBe(
      `{"v":1,"instanceId":"inst_0123456789abcdef","step":"list_memory","recipientKey":"0x${"11".repeat(32)}","feedbackOnly":false}`,
    );
    // The vector the web app's copy is held to (services/web/src/agent/confirm-words.test.ts).
    expect(stepDigest(INSTANCE, list)).toBe(LIST_DIGEST);
    expect(stepDigest(INSTANCE, { ...list, recipientKey: `0x${"22".repeat(32)}` })).not.toBe(LIST_DIGEST);
    expect(stepDigest(INSTANCE, { ...list, feedbackOnly: true })).not.toBe(LIST_DIGEST);
  });
});

describe("a step in words", () => {
  it("says a trust level with its daily limit in ETH, or that it spends nothing", () => {
    expect(stepWords(L3)).toBe("Set my trust level to L3, up to 0.01 ETH a day.");
    expect(stepWords({ ...L3, trustLevel: TrustLevel.ADVISOR, dailySpendLimitWei: "0" })).toBe(
      "Set my trust level to L2, no spending.",
    );
  });

  it("quotes the waiting question an answer is for, and whether it approves or declines it", () => {
    const step: Step = { kind: "answer_approval", questionId: "q1", approve: false };
    expect(stepWords(step, "Pay 0.001 ETH to Bob")).toBe("Decline what I asked you: Pay 0.001 ETH to Bob");
  });

  it("says a listing of its memory is shown on the pool's web page, all of it or only the feedback", () => {
    const list: Step = { kind: "list_memory", recipientKey: `0x${"11".repeat(32)}`, feedbackOnly: false };
    expect(stepWords(list)).toBe("Show everything I know, and who taught it, on the pool's web page, once.");
    expect(stepWords({ ...list, feedbackOnly: true })).toBe(
      "Show the feedback I was given on the pool's web page, once.",
    );
  });

  it("names every permission by its name", () => {
    expect(stepWords({ kind: "set_permissions", permissions: resolvePermissions(undefined) })).toBe(
      "Set whose requests I act on: another member's texts: ask; mail: ask; money: ask; a text from outside: none; your approvals asked in: conversation.",
    );
  });
});

describe("what an answer does to a confirmation", () => {
  it("applies the kept step on the owner's yes while it waits, its digest and owner the ones asked", () => {
    expect(settle(kept(), "yes", { digest: stepDigest(INSTANCE, L3), ownerId: OWNER })).toEqual({
      kind: "apply",
      step: L3,
    });
  });

  it("applies nothing on a second answer: a settled confirmation ignores every answer", () => {
    for (const state of [
      ConfirmationState.APPLIED,
      ConfirmationState.DECLINED,
      ConfirmationState.EXPIRED,
      ConfirmationState.FAILED,
    ])
      expect(settle(kept(L3, state), "yes", { digest: stepDigest(INSTANCE, L3), ownerId: OWNER })).toEqual({
        kind: "ignore",
      });
  });

  it("fails a yes when the step it holds no longer has the digest asked, and applies nothing", () => {
    const changed = { ...kept(), step: { ...L3, trustLevel: TrustLevel.AUTONOMOUS } };
    const now = { digest: stepDigest(INSTANCE, changed.step), ownerId: OWNER };
    expect(settle(changed, "yes", now)).toEqual({
      kind: "settle",
      state: ConfirmationState.FAILED,
      detail: "the step changed after it was asked",
    });
  });

  it("fails a yes once the agent has another owner than the one asked", () => {
    const now = { digest: stepDigest(INSTANCE, L3), ownerId: "b".repeat(64) };
    expect(settle(kept(), "yes", now)).toMatchObject({ kind: "settle", state: ConfirmationState.FAILED });
  });

  it("declines on a no, and expires when the question timed out or could not be asked", () => {
    const now = { digest: stepDigest(INSTANCE, L3), ownerId: OWNER };
    expect(settle(kept(), "no", now)).toMatchObject({ state: ConfirmationState.DECLINED });
    expect(settle(kept(), "timeout", now)).toMatchObject({ state: ConfirmationState.EXPIRED });
    expect(settle(kept(), "unasked", now)).toMatchObject({ state: ConfirmationState.EXPIRED });
  });
});

describe("how many confirmations and for how long", () => {
  it("lets at most MAX_WAITING_CONFIRMATIONS (3) wait at once", () => {
    expect(MAX_WAITING_CONFIRMATIONS).toBe(3);
    expect(mayAsk(2)).toBe(true);
    expect(mayAsk(3)).toBe(false);
  });

  it("keeps a settled one SETTLED_KEPT_MS (15 minutes) for the page to read, and a waiting one always", () => {
    expect(SETTLED_KEPT_MS).toBe(15 * 60_000);
    expect(stillKept({ ...kept(), settledAtMs: 1_000 }, 1_000 + SETTLED_KEPT_MS - 1)).toBe(true);
    expect(stillKept({ ...kept(), settledAtMs: 1_000 }, 1_000 + SETTLED_KEPT_MS)).toBe(false);
    expect(stillKept(kept(), Number.MAX_SAFE_INTEGER)).toBe(true);
  });
});

describe("a confirmation being applied", () => {
  it("ignores every answer while the owner's yes is applied: it still waits to the page, but is answered", () => {
    const now = { digest: stepDigest(INSTANCE, L3), ownerId: OWNER };
    expect(settle({ ...kept(), applying: true }, "yes", now)).toEqual({ kind: "ignore" });
    expect(settle({ ...kept(), applying: true }, "timeout", now)).toEqual({ kind: "ignore" });
  });
});

describe("a daily limit confirmed in Convos", () => {
  // 0.05 ETH, written out here rather than read from the constant under test.
  const CAP = "50000000000000000";

  it("may raise the limit up to the cap, 0.05 ETH a day: none counts as 0", () => {
    expect(raisesAboveCap("0", "1")).toBe(false);
    expect(raisesAboveCap("", CAP)).toBe(false);
    expect(raisesAboveCap("10000000000000000", CAP)).toBe(false);
  });

  it("never raises it above the cap: that takes the owner's signature", () => {
    expect(raisesAboveCap("0", "50000000000000001")).toBe(true);
    expect(raisesAboveCap("", "1000000000000000000")).toBe(true);
    expect(raisesAboveCap(CAP, "50000000000000001")).toBe(true);
  });

  it("may lower a signed limit above the cap, or keep it", () => {
    expect(raisesAboveCap("1000000000000000000", "500000000000000000")).toBe(false);
    expect(raisesAboveCap("1000000000000000000", "1000000000000000000")).toBe(false);
    expect(raisesAboveCap("1000000000000000000", "0")).toBe(false);
  });
});
