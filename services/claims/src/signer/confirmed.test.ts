// A daily limit confirmed in Convos (confirmed.ts), and the payment signer's
// policy over it (policy.ts), pure: asks and confirmations built here as the
// claims service writes and reads them, agents as plain views, no database,
// no agent and no key. Over the wire, with the owner's Convos app and the
// local chain: services/e2e/browser/no-wallet.test.ts and
// services/e2e/src/confirmations-e2e.int.test.ts.
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ConfirmationState } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { parseEther } from "viem";
import {
  CONFIRMED_LIMIT_FIELD,
  confirmedLimit,
  confirmedLimitAskRefusal,
  type AskedLimit,
  type HeardLimit,
} from "./confirmed.js";
import { paymentRefusal, type PaymentAsk, type SignerView } from "./policy.js";

const ID = "inst_AAAAAAAAAAAAAAAA";
const OWNER = "a".repeat(64);
const NONCE = "0123456789abcdef0123456789abcdef";
// 0.05 ETH, written out here rather than read from the constant under test.
const CAP = 50_000_000_000_000_000n;

const asked = (more: Partial<AskedLimit> = {}): AskedLimit => ({
  id: NONCE,
  instanceId: ID,
  askedBy: OWNER,
  trustLevel: 3,
  dailySpendLimitWei: parseEther("0.01"),
  digest: `0x${"d".repeat(64)}`,
  recorded: false,
  ...more,
});

const heard = (more: Partial<HeardLimit> = {}): HeardLimit => ({
  id: NONCE,
  instanceId: ID,
  state: ConfirmationState.APPLIED,
  trustLevel: 3,
  dailySpendLimitWei: parseEther("0.01"),
  digest: `0x${"d".repeat(64)}`,
  ...more,
});

describe("confirmedLimit", () => {
  it("records a limit within the cap as confirmed, under its nonce, when the owner's session asked it and the agent heard the yes", () => {
    expect(confirmedLimit(heard(), asked(), OWNER, 0n)).toEqual({
      kind: "confirmed",
      wei: parseEther("0.01"),
      confirmation: NONCE,
    });
    const atCap = { dailySpendLimitWei: CAP };
    expect(confirmedLimit(heard(atCap), asked(atCap), OWNER, 0n)).toMatchObject({ kind: "confirmed", wei: CAP });
  });

  it("refuses a limit one wei above the cap, both words agreeing", () => {
    const over = { dailySpendLimitWei: CAP + 1n };
    const r = confirmedLimit(heard(over), asked(over), OWNER, 0n);
    expect(r).toEqual({ kind: "refused", why: expect.stringContaining("above 0.05 ETH a day") });
  });

  it("refuses a raise no session asked through the pool: the agent's word alone", () => {
    expect(confirmedLimit(heard(), undefined, OWNER, 0n)).toMatchObject({
      kind: "refused",
      why: "no session of its owner asked it through the pool",
    });
  });

  it("refuses a step the agent did not hear a yes for, whatever the session asked", () => {
    for (const state of [ConfirmationState.WAITING, ConfirmationState.DECLINED, ConfirmationState.EXPIRED])
      expect(confirmedLimit(heard({ state }), asked(), OWNER, 0n).kind).toBe("refused");
    // Not even a lowering is recorded without it.
    expect(confirmedLimit(heard({ state: ConfirmationState.FAILED }), asked(), OWNER, CAP).kind).toBe("refused");
  });

  it("refuses an ask by someone who is not the agent's owner now (a member's session, or an owner since replaced)", () => {
    expect(confirmedLimit(heard(), asked({ askedBy: "b".repeat(64) }), OWNER, 0n)).toMatchObject({
      kind: "refused",
      why: "it was asked by someone who is not the agent's owner now",
    });
    expect(confirmedLimit(heard(), asked(), undefined, 0n).kind).toBe("refused");
  });

  it("refuses a confirmation for another agent than the one asked", () => {
    const other = confirmedLimit(heard({ instanceId: "inst_BBBBBBBBBBBBBBBB" }), asked(), OWNER, 0n);
    expect(other).toMatchObject({ kind: "refused", why: "it was asked for another agent" });
    expect(confirmedLimit(heard({ id: "f".repeat(32) }), asked(), OWNER, 0n).kind).toBe("refused");
  });

  it("refuses a confirmation of another limit, level or digest than the one the session asked", () => {
    for (const more of [
      { dailySpendLimitWei: parseEther("0.02") },
      { trustLevel: 4 },
      { digest: `0x${"e".repeat(64)}` },
    ])
      expect(confirmedLimit(heard(more), asked(), OWNER, 0n)).toMatchObject({
        kind: "refused",
        why: "the agent applied another step than the one asked",
      });
  });

  it("refuses a replayed nonce: a confirmation recorded once is not recorded again", () => {
    expect(confirmedLimit(heard(), asked({ recorded: true }), OWNER, 0n)).toMatchObject({
      kind: "refused",
      why: "its nonce was spent: it was recorded once already",
    });
  });

  it("lowers a limit on the agent's applied step alone, above the cap too: lowering raises nothing", () => {
    const signed = parseEther("1");
    expect(confirmedLimit(heard({ dailySpendLimitWei: parseEther("0.5") }), undefined, OWNER, signed)).toEqual({
      kind: "lowered",
      wei: parseEther("0.5"),
    });
    expect(confirmedLimit(heard({ dailySpendLimitWei: 0n }), undefined, OWNER, signed)).toEqual({
      kind: "lowered",
      wei: 0n,
    });
  });
});

describe("confirmedLimitAskRefusal", () => {
  it("lets a session ask for up to the cap, or for any lowering of the limit recorded", () => {
    expect(confirmedLimitAskRefusal(CAP.toString(), 0n)).toBeUndefined();
    expect(confirmedLimitAskRefusal("", 0n)).toBeUndefined();
    expect(confirmedLimitAskRefusal(parseEther("0.5").toString(), parseEther("1"))).toBeUndefined();
  });

  it("refuses a raise above the cap with INVALID_ARGUMENT naming the step's limit field and saying a wallet signs more", () => {
    const err = confirmedLimitAskRefusal((CAP + 1n).toString(), 0n);
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(CONFIRMED_LIMIT_FIELD).toBe("step.set_trust_level.daily_spend_limit_wei");
    expect(fieldViolations(err!).map((v) => v.field)).toEqual([CONFIRMED_LIMIT_FIELD]);
    expect(err?.rawMessage).toContain("at most 0.05 ETH a day when confirmed in Convos");
    expect(err?.rawMessage).toContain("your wallet's signature");
  });
});

describe("paymentRefusal, a limit confirmed in Convos", () => {
  const WALLET = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
  const HOST = "http://host-a.test:7100";
  const payment = (valueWei: bigint): PaymentAsk => ({
    instanceId: ID,
    chainId: 31337n,
    to: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    valueWei,
    nonce: 0n,
    gas: 21_000n,
    maxFeePerGas: 1n,
  });
  const confirmedAt = (dailyLimitWei: bigint): SignerView => ({
    placement: { instanceId: ID, hostUrl: HOST, walletIndex: 1, hostLost: false, movingTo: "" },
    state: "claimed",
    trustLevel: 3,
    dailyLimitWei,
    limitConfirmed: true,
    wallet: WALLET,
  });

  it("signs a payment within a confirmed limit under the cap", () => {
    expect(paymentRefusal(payment(parseEther("0.001")), HOST, confirmedAt(CAP), 31337n, 0n)).toBeUndefined();
  });

  it("refuses what passes a confirmed limit, saying it was confirmed in Convos", () => {
    const err = paymentRefusal(payment(CAP), HOST, confirmedAt(CAP), 31337n, 0n);
    expect(err?.code).toBe(Code.FailedPrecondition);
    expect(err?.rawMessage).toContain("over the daily limit its owner confirmed in Convos");
  });

  it("refuses every payment of an agent whose confirmed limit is above the cap, as if it had none", () => {
    const err = paymentRefusal(payment(1n), HOST, confirmedAt(CAP + 1n), 31337n, 0n);
    expect(err?.code).toBe(Code.FailedPrecondition);
    expect(err?.rawMessage).toContain("confirmed in Convos, not signed, and is above 0.05 ETH");
    // The same limit signed pays.
    expect(
      paymentRefusal(payment(1n), HOST, { ...confirmedAt(CAP + 1n), limitConfirmed: false }, 31337n, 0n),
    ).toBeUndefined();
  });
});
