// What the page computes and concludes of a step confirmed in Convos
// (confirm-words.ts), pure: the same canonical JSON, digest and code as the
// agent's (the vector of services/instance/src/tools/confirmations/policy.test.ts),
// and the outcome read against the digest the page computed itself. No stand-ins.
import { describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ConfirmationState } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import {
  canonicalStep,
  confirmationCode,
  confirmedLimitProblem,
  outcomeOf,
  stepDigest,
  stepRequest,
  type ShownStep,
} from "./confirm-words";

const INSTANCE = "inst_0123456789abcdef";
const L3: ShownStep = {
  kind: "set_trust_level",
  trustLevel: TrustLevel.OPERATOR,
  dailySpendLimitWei: "10000000000000000",
};

describe("the step's digest, as the page computes it", () => {
  it("is the agent's: the same canonical JSON, digest and code for the same step", () => {
    expect(canonicalStep(INSTANCE, L3)).toBe(
      '{"v":1,"instanceId":"inst_0123456789abcdef","step":"set_trust_level","trustLevel":3,"dailySpendLimitWei":"10000000000000000"}',
    );
    expect(stepDigest(INSTANCE, L3)).toBe("0x547b75e2acc33196f05388c5df4403d9943cfddfaadffedaf7b5b739583a49f1");
    expect(confirmationCode(stepDigest(INSTANCE, L3))).toBe("547B-75E2");
  });

  it("is the agent's for a listing of memory, which names the page's own key", () => {
    const list: ShownStep = { kind: "list_memory", recipientKey: `0x${"11".repeat(32)}`, feedbackOnly: false };
    expect(stepDigest(INSTANCE, list)).toBe("0x6e77fc231655f8f7f434b0e24cfb18f85ef754d0b4584a1cc17fdcd4f472bbf1");
    expect(stepRequest(list).step).toEqual({
      case: "listMemory",
      value: { recipientKey: new Uint8Array(32).fill(0x11), feedbackOnly: false },
    });
  });
});

describe("what the page concludes of the agent's answer", () => {
  const shown = stepDigest(INSTANCE, L3);
  const other = stepDigest(INSTANCE, { ...L3, trustLevel: TrustLevel.AUTONOMOUS });

  it("refuses an outcome for another step than the one it showed, whatever its state says", () => {
    for (const state of [ConfirmationState.WAITING, ConfirmationState.APPLIED])
      expect(outcomeOf({ digest: other, state, detail: "" }, shown)).toMatchObject({ kind: "refused" });
  });

  it("waits while it waits, is done once applied, and says why otherwise", () => {
    expect(outcomeOf({ digest: shown, state: ConfirmationState.WAITING, detail: "" }, shown)).toEqual({
      kind: "waiting",
    });
    expect(outcomeOf({ digest: shown, state: ConfirmationState.APPLIED, detail: "" }, shown)).toEqual({ kind: "done" });
    expect(outcomeOf({ digest: shown, state: ConfirmationState.DECLINED, detail: "" }, shown)).toEqual({
      kind: "refused",
      why: "You declined it in Convos: nothing changed.",
    });
    expect(outcomeOf({ digest: shown, state: ConfirmationState.EXPIRED, detail: "" }, shown)).toMatchObject({
      kind: "refused",
    });
    expect(
      outcomeOf({ digest: shown, state: ConfirmationState.FAILED, detail: "the question is no longer waiting" }, shown),
    ).toEqual({ kind: "refused", why: "Confirmed in Convos, but not done: the question is no longer waiting." });
  });
});

describe("a daily limit confirmed in Convos", () => {
  // 0.05 ETH, written out here rather than read from the constant under test.
  const CAP = 50_000_000_000_000_000n;

  it("may be set up to the cap, 0.05 ETH a day, or lowered from any limit", () => {
    expect(confirmedLimitProblem(CAP, 0n)).toBeUndefined();
    expect(confirmedLimitProblem(1n, 0n)).toBeUndefined();
    expect(confirmedLimitProblem(10n ** 18n / 2n, 10n ** 18n)).toBeUndefined();
  });

  it("is refused above the cap, saying the cap and that a wallet can sign more", () => {
    expect(confirmedLimitProblem(CAP + 1n, 0n)).toBe(
      "at most 0.05 ETH a day when confirmed in Convos; a wallet of yours can sign a higher limit",
    );
    expect(confirmedLimitProblem(CAP + 1n, CAP)).toBeDefined();
  });
});
