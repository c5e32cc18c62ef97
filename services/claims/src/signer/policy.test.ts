// Whether the payment signer signs (policy.ts), pure: requests built here as
// a host sends them, agents as plain views, no database and no key. Over the
// wire, with the ledger and real hosts' credentials: signer.int.test.ts.
// fast-check walks the amounts for the one rule that holds the owner's money:
// what is signed in 24 hours never passes the limit they signed.
import fc from "fast-check";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SignPaymentRequestSchema } from "@convos-pool/gen/convos/pool/v1/payment_signer_service_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { costOf, MAX_GAS, type PaymentAsk, paymentRefusal, readPaymentRequest, type SignerView } from "./policy.js";

const A = "http://host-a.test:7100";
const B = "http://host-b.test:7100";
const ID = "inst_AAAAAAAAAAAAAAAA";
const CHAIN = 8453n;
// EIP-55's own example: its checksummed spelling is known, not computed here by the code under test.
const TO_LOWER = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
const TO_CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const WALLET = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";

type RequestInit = MessageInitShape<typeof SignPaymentRequestSchema>;

/** A request a host may send: a 1 gwei-tipped EIP-1559 transfer of 1 ether on the pool's chain. */
const request = (more: RequestInit = {}) =>
  create(SignPaymentRequestSchema, {
    instanceId: ID,
    chainId: CHAIN,
    to: TO_LOWER,
    valueWei: "1000000000000000000",
    nonce: 3n,
    gas: 21_000n,
    maxFeePerGasWei: "30000000000",
    maxPriorityFeePerGasWei: "1000000000",
    ...more,
  });

/** Fields to set, or to leave out when undefined (the tsconfig's exactOptionalPropertyTypes tells the two apart). */
type Changes<T> = { [K in keyof T]?: T[K] | undefined };

/** `value` without its undefined fields: an optional field left out, as the service builds it. */
const defined = <T extends object>(value: Changes<T>): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

const ask = (more: Changes<PaymentAsk> = {}): PaymentAsk =>
  defined<PaymentAsk>({
    instanceId: ID,
    chainId: CHAIN,
    to: TO_CHECKSUMMED,
    valueWei: 1_000n,
    nonce: 0n,
    gas: 21_000n,
    maxFeePerGas: 1n,
    maxPriorityFeePerGas: 1n,
    ...more,
  });

/** An agent on host A, claimed, with a wallet and a limit of 1 ether a day at trust level 2. */
const view = (more: Changes<SignerView> = {}): SignerView =>
  defined<SignerView>({
    placement: { instanceId: ID, hostUrl: A, walletIndex: 7, hostLost: false, movingTo: "" },
    state: "claimed",
    trustLevel: 2,
    dailyLimitWei: 10n ** 18n,
    limitConfirmed: false,
    wallet: WALLET,
    ...more,
  });

/** The refusal readPaymentRequest threw for `more`; fails when it read the request. */
function refusalOf(more: RequestInit): ConnectError {
  try {
    readPaymentRequest(request(more));
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    return err as ConnectError;
  }
  throw new Error("the request was read");
}

/** Refused with INVALID_ARGUMENT naming `field`, in its detail and at the start of its message. */
function expectInvalid(more: RequestInit, field: string) {
  const err = refusalOf(more);
  expect(Code[err.code]).toBe("InvalidArgument");
  expect(fieldViolations(err).map((v) => v.field)).toEqual([field]);
  expect(err.rawMessage.startsWith(`${field}: `)).toBe(true);
}

const codeOf = (err: ConnectError | undefined) => (err ? Code[err.code] : "signed");

describe("readPaymentRequest", () => {
  it("reads a good request back with the recipient checksummed and its numbers as bigints", () => {
    expect(readPaymentRequest(request())).toEqual({
      instanceId: ID,
      chainId: CHAIN,
      to: TO_CHECKSUMMED,
      valueWei: 10n ** 18n,
      nonce: 3n,
      gas: 21_000n,
      maxFeePerGas: 30_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    });
  });

  it("reads an empty tip as a legacy transaction: no maxPriorityFeePerGas at all, the max fee its gas price", () => {
    const read = readPaymentRequest(request({ maxPriorityFeePerGasWei: "" }));
    expect(read.maxPriorityFeePerGas).toBeUndefined();
    // Absent, not present and undefined: the signer picks the transaction's type by it.
    expect("maxPriorityFeePerGas" in read).toBe(false);
    expect(read.maxFeePerGas).toBe(30_000_000_000n);
  });

  it("takes the edges of what it allows: gas from 21000 to 30,000,000, a tip equal to the max fee, the largest safe nonce", () => {
    expect(readPaymentRequest(request({ gas: 21_000n })).gas).toBe(21_000n);
    expect(readPaymentRequest(request({ gas: 30_000_000n })).gas).toBe(30_000_000n);
    expect(readPaymentRequest(request({ maxPriorityFeePerGasWei: "30000000000" })).maxPriorityFeePerGas).toBe(
      30_000_000_000n,
    );
    const safe = BigInt(Number.MAX_SAFE_INTEGER);
    expect(readPaymentRequest(request({ nonce: safe })).nonce).toBe(safe);
  });

  it("reads a scheduled payment's firing id, and refuses anything else there naming firing_id", () => {
    const firing = "sch_0123456789abcdef01234567@2027-01-01T08:00:00Z";
    expect(readPaymentRequest(request({ firingId: firing })).firingId).toBe(firing);
    expect("firingId" in readPaymentRequest(request())).toBe(false);
    expectInvalid({ firingId: "0xa9059cbb" }, "firing_id");
    expectInvalid({ firingId: `${firing} ` }, "firing_id");
  });

  it("refuses an instance id that is not one with INVALID_ARGUMENT naming instance_id", () => {
    expectInvalid({ instanceId: "" }, "instance_id");
    expectInvalid({ instanceId: "inst_short" }, "instance_id");
    expectInvalid({ instanceId: `${ID}\n` }, "instance_id");
  });

  it("names every bad field of one request at once, in one INVALID_ARGUMENT", () => {
    const err = refusalOf({
      instanceId: "",
      chainId: 0n,
      to: "nowhere",
      valueWei: "0",
      gas: 1n,
      maxFeePerGasWei: "x",
      maxPriorityFeePerGasWei: "1",
    });
    expect(Code[err.code]).toBe("InvalidArgument");
    expect(fieldViolations(err).map((v) => v.field)).toEqual([
      "instance_id",
      "chain_id",
      "to",
      "value_wei",
      "gas",
      "max_fee_per_gas_wei",
    ]);
    // A tip is weighed against the max fee only once the max fee is read.
    expect(fieldViolations(refusalOf({ to: "", maxPriorityFeePerGasWei: "9".repeat(20) })).map((v) => v.field)).toEqual(
      ["to", "max_priority_fee_per_gas_wei"],
    );
  });

  it("refuses chain_id 0: a transaction without a chain could be replayed on any", () => {
    expectInvalid({ chainId: 0n }, "chain_id");
  });

  it("refuses a `to` that is not an address with INVALID_ARGUMENT naming to", () => {
    expectInvalid({ to: "" }, "to");
    expectInvalid({ to: "0x1234" }, "to");
    expectInvalid({ to: `${TO_LOWER}00` }, "to");
    expectInvalid({ to: `0x${"g".repeat(40)}` }, "to");
    expectInvalid({ to: "vitalik.eth" }, "to");
  });

  it("refuses value_wei that is not decimal digits", () => {
    expectInvalid({ valueWei: "" }, "value_wei");
    expectInvalid({ valueWei: "one" }, "value_wei");
    expectInvalid({ valueWei: "0x10" }, "value_wei");
    expectInvalid({ valueWei: "1e18" }, "value_wei");
  });

  it('refuses value_wei "0": a payment of nothing is no payment', () => {
    expectInvalid({ valueWei: "0" }, "value_wei");
  });

  it("refuses amounts past what a transaction can carry (2^256 - 1), and amounts with spaces around them", () => {
    expectInvalid({ valueWei: "9".repeat(78) }, "value_wei");
    expectInvalid({ maxFeePerGasWei: "9".repeat(78) }, "max_fee_per_gas_wei");
    expectInvalid({ valueWei: " 5\n" }, "value_wei");
    expectInvalid({ maxPriorityFeePerGasWei: "  " }, "max_priority_fee_per_gas_wei");
  });

  it("refuses value_wei with a sign or a decimal point", () => {
    expectInvalid({ valueWei: "-1" }, "value_wei");
    expectInvalid({ valueWei: "+1" }, "value_wei");
    expectInvalid({ valueWei: "1.5" }, "value_wei");
    expectInvalid({ valueWei: "1." }, "value_wei");
  });

  it("refuses gas below 21000: a plain transfer cannot be sent with less", () => {
    expectInvalid({ gas: 20_999n }, "gas");
    expectInvalid({ gas: 0n }, "gas");
  });

  it("refuses gas above 30,000,000: more than a block holds would count a cost no payment has", () => {
    expectInvalid({ gas: MAX_GAS + 1n }, "gas");
    expectInvalid({ gas: 2n ** 64n - 1n }, "gas");
  });

  it('refuses max_fee_per_gas_wei "0" or not digits', () => {
    expectInvalid({ maxFeePerGasWei: "0" }, "max_fee_per_gas_wei");
    expectInvalid({ maxFeePerGasWei: "" }, "max_fee_per_gas_wei");
    expectInvalid({ maxFeePerGasWei: "30 gwei" }, "max_fee_per_gas_wei");
    expectInvalid({ maxFeePerGasWei: "-1" }, "max_fee_per_gas_wei");
  });

  it("refuses a tip above the max fee, naming max_priority_fee_per_gas_wei", () => {
    expectInvalid({ maxPriorityFeePerGasWei: "30000000001" }, "max_priority_fee_per_gas_wei");
    expectInvalid({ maxPriorityFeePerGasWei: "1.5" }, "max_priority_fee_per_gas_wei");
  });

  it("refuses a nonce above Number.MAX_SAFE_INTEGER: viem signs it as a number, and would sign another", () => {
    expectInvalid({ nonce: BigInt(Number.MAX_SAFE_INTEGER) + 1n }, "nonce");
    expectInvalid({ nonce: 2n ** 64n - 1n }, "nonce");
  });
});

describe("costOf", () => {
  it("counts the amount plus the gas at the most it may pay per gas, the tip aside", () => {
    expect(costOf(ask({ valueWei: 5n, gas: 21_000n, maxFeePerGas: 3n, maxPriorityFeePerGas: 2n }))).toBe(63_005n);
    expect(costOf(ask({ valueWei: 5n, gas: 21_000n, maxFeePerGas: 3n, maxPriorityFeePerGas: undefined }))).toBe(
      63_005n,
    );
  });
});

describe("paymentRefusal", () => {
  // ask() costs 1000 + 21000 × 1 = 22000 wei.
  const COST = 22_000n;

  it("signs a payment within the limit for the agent's own host", () => {
    expect(paymentRefusal(ask(), A, view(), CHAIN, 0n)).toBeUndefined();
  });

  it("refuses the hosts' shared credential (no host of its own) with PERMISSION_DENIED, before anything else", () => {
    // Even for no such agent: the shared credential learns nothing of which agents exist.
    for (const agent of [view(), undefined]) {
      const err = paymentRefusal(ask(), undefined, agent, CHAIN, 0n);
      expect(codeOf(err)).toBe("PermissionDenied");
      expect(err?.rawMessage).toContain("not the hosts' shared one");
    }
  });

  it("refuses an agent that is not in the pool with NOT_FOUND", () => {
    const err = paymentRefusal(ask(), A, undefined, CHAIN, 0n);
    expect(codeOf(err)).toBe("NotFound");
    expect(err?.rawMessage).toBe(`instance_id: no agent ${ID} in this pool`);
  });

  it("refuses a host the agent is not placed on with PERMISSION_DENIED, never naming the host it runs on", () => {
    const err = paymentRefusal(ask(), B, view(), CHAIN, 0n);
    expect(codeOf(err)).toBe("PermissionDenied");
    expect(err?.rawMessage).toContain(ID);
    expect(err?.rawMessage).not.toContain(A);
  });

  it("checks the host before the agent's state, wallet, chain and limit: another host learns none of them", () => {
    const poor = view({ state: "dead", wallet: undefined, trustLevel: 0, dailyLimitWei: 0n });
    expect(codeOf(paymentRefusal(ask({ chainId: 1n }), B, poor, undefined, 10n ** 30n))).toBe("PermissionDenied");
  });

  it("signs for the host a move restores the agent on, while its own host is marked lost", () => {
    const moving = view({ placement: { instanceId: ID, hostUrl: A, walletIndex: 7, hostLost: true, movingTo: B } });
    expect(paymentRefusal(ask(), B, moving, CHAIN, 0n)).toBeUndefined();
    // And still for the lost host: an agent that could not be moved keeps running there.
    expect(paymentRefusal(ask(), A, moving, CHAIN, 0n)).toBeUndefined();
  });

  it("refuses the host a move names while the agent's own host is not lost, with PERMISSION_DENIED", () => {
    const moving = view({ placement: { instanceId: ID, hostUrl: A, walletIndex: 7, hostLost: false, movingTo: B } });
    expect(codeOf(paymentRefusal(ask(), B, moving, CHAIN, 0n))).toBe("PermissionDenied");
  });

  it("refuses an agent that is not claimed with FAILED_PRECONDITION", () => {
    for (const state of ["starting", "idle", "claiming", "crashed", "dead"]) {
      const err = paymentRefusal(ask(), A, view({ state }), CHAIN, 0n);
      expect(codeOf(err)).toBe("FailedPrecondition");
      expect(err?.rawMessage).toContain("is not claimed");
    }
  });

  it("refuses an agent with no wallet the pool made with NOT_FOUND", () => {
    const err = paymentRefusal(ask(), A, view({ wallet: undefined }), CHAIN, 0n);
    expect(codeOf(err)).toBe("NotFound");
    expect(err?.rawMessage).toContain("holds no wallet");
  });

  it("refuses every payment in a pool without a chain with FAILED_PRECONDITION", () => {
    const err = paymentRefusal(ask(), A, view(), undefined, 0n);
    expect(codeOf(err)).toBe("FailedPrecondition");
    expect(err?.rawMessage).toContain("no chain");
  });

  it("refuses a chain that is not the pool's with FAILED_PRECONDITION naming chain_id", () => {
    const err = paymentRefusal(ask({ chainId: 1n }), A, view(), CHAIN, 0n);
    expect(codeOf(err)).toBe("FailedPrecondition");
    expect(err?.rawMessage).toBe(`chain_id: 1 is not the pool's chain (${CHAIN})`);
  });

  it("refuses an agent at trust level 1 with FAILED_PRECONDITION saying no spending limit is signed, whatever its limit", () => {
    const err = paymentRefusal(ask(), A, view({ trustLevel: 1 }), CHAIN, 0n);
    expect(codeOf(err)).toBe("FailedPrecondition");
    expect(err?.rawMessage).toContain("has signed no spending limit");
  });

  it("refuses a limit of 0 with FAILED_PRECONDITION saying no spending limit is signed, whatever its trust level", () => {
    const err = paymentRefusal(ask(), A, view({ trustLevel: 3, dailyLimitWei: 0n }), CHAIN, 0n);
    expect(codeOf(err)).toBe("FailedPrecondition");
    expect(err?.rawMessage).toContain("has signed no spending limit");
  });

  it("signs a payment that reaches the limit exactly", () => {
    const limit = 100_000n;
    expect(paymentRefusal(ask(), A, view({ dailyLimitWei: limit }), CHAIN, limit - COST)).toBeUndefined();
    expect(paymentRefusal(ask(), A, view({ dailyLimitWei: COST }), CHAIN, 0n)).toBeUndefined();
  });

  it("refuses one wei over the limit with FAILED_PRECONDITION saying how much is left", () => {
    const limit = 100_000n;
    const signed = limit - COST + 1n;
    const err = paymentRefusal(ask(), A, view({ dailyLimitWei: limit }), CHAIN, signed);
    expect(codeOf(err)).toBe("FailedPrecondition");
    expect(err?.rawMessage).toContain(`${COST - 1n} wei left`);
    expect(err?.rawMessage).toContain(`${signed} wei signed already`);
    expect(err?.rawMessage).toContain(`may take ${COST} wei`);
  });

  it("says 0 wei is left, not a negative amount, when more than the limit was signed already (a limit lowered since)", () => {
    const err = paymentRefusal(ask(), A, view({ dailyLimitWei: 1_000n }), CHAIN, 5_000n);
    expect(codeOf(err)).toBe("FailedPrecondition");
    expect(err?.rawMessage).toContain(" 0 wei left");
  });

  it("refuses in order: credential, agent, host, state, wallet, chain, limit, amount", () => {
    // A request wrong in every way; each fault put right shows the next.
    const steps: [string, Parameters<typeof paymentRefusal>][] = [
      ["PermissionDenied", [ask({ chainId: 1n }), undefined, undefined, undefined, 10n ** 30n]],
      ["NotFound", [ask({ chainId: 1n }), B, undefined, undefined, 10n ** 30n]],
      [
        "PermissionDenied",
        [
          ask({ chainId: 1n }),
          B,
          view({ state: "dead", wallet: undefined, trustLevel: 0, dailyLimitWei: 0n }),
          undefined,
          10n ** 30n,
        ],
      ],
      [
        "FailedPrecondition",
        [
          ask({ chainId: 1n }),
          A,
          view({ state: "dead", wallet: undefined, trustLevel: 0, dailyLimitWei: 0n }),
          undefined,
          10n ** 30n,
        ],
      ],
      [
        "NotFound",
        [ask({ chainId: 1n }), A, view({ wallet: undefined, trustLevel: 0, dailyLimitWei: 0n }), undefined, 10n ** 30n],
      ],
      [
        "FailedPrecondition",
        [ask({ chainId: 1n }), A, view({ trustLevel: 0, dailyLimitWei: 0n }), undefined, 10n ** 30n],
      ],
      ["FailedPrecondition", [ask({ chainId: 1n }), A, view({ trustLevel: 0, dailyLimitWei: 0n }), CHAIN, 10n ** 30n]],
      ["FailedPrecondition", [ask(), A, view({ trustLevel: 0, dailyLimitWei: 0n }), CHAIN, 10n ** 30n]],
      ["FailedPrecondition", [ask(), A, view(), CHAIN, 10n ** 30n]],
      ["signed", [ask(), A, view(), CHAIN, 0n]],
    ];
    const messages = steps.map(([code, args]) => {
      const err = paymentRefusal(...args);
      expect(codeOf(err)).toBe(code);
      return err?.rawMessage;
    });
    // The four FAILED_PRECONDITIONs are four different reasons, in this order.
    expect(messages[3]).toContain("is not claimed");
    expect(messages[5]).toContain("no chain");
    expect(messages[6]).toMatch(/^chain_id: /);
    expect(messages[7]).toContain("has signed no spending limit");
    expect(messages[8]).toContain("over the daily limit");
  });

  // Amounts up to a million ether; gas at most 10^15 wei each, well past any chain's fees.
  const amount = fc.bigInt({ min: 0n, max: 10n ** 24n });
  const payment = fc.record({
    valueWei: fc.bigInt({ min: 1n, max: 10n ** 24n }),
    gas: fc.bigInt({ min: 21_000n, max: MAX_GAS }),
    maxFeePerGas: fc.bigInt({ min: 1n, max: 10n ** 15n }),
  });

  it("signs if and only if what was signed today plus the payment's amount and gas at most fits the limit", () => {
    fc.assert(
      fc.property(
        payment,
        amount,
        fc.bigInt({ min: 1n, max: 10n ** 24n }),
        // Half the time a limit within a few wei of what the payment needs, so both sides of the edge are walked.
        fc.option(fc.bigInt({ min: -3n, max: 3n }), { nil: undefined }),
        fc.integer({ min: 2, max: 4 }),
        (p, signedToday, randomLimit, slack, trustLevel) => {
          const needed = signedToday + p.valueWei + p.gas * p.maxFeePerGas;
          const limit = slack === undefined ? randomLimit : needed + slack > 0n ? needed + slack : 1n;
          const err = paymentRefusal(ask(p), A, view({ dailyLimitWei: limit, trustLevel }), CHAIN, signedToday);
          if (needed <= limit) {
            expect(err).toBeUndefined();
          } else {
            expect(codeOf(err)).toBe("FailedPrecondition");
            const left = limit > signedToday ? limit - signedToday : 0n;
            expect(err?.rawMessage).toContain(` ${left} wei left`);
          }
        },
      ),
    );
  });

  it("never signs more than the limit in total, however the payments asked in turn are split", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 21n }),
        fc.bigInt({ min: 0n, max: 10n ** 21n }),
        fc.array(
          fc.record({
            valueWei: fc.bigInt({ min: 1n, max: 10n ** 20n }),
            gas: fc.bigInt({ min: 21_000n, max: MAX_GAS }),
            maxFeePerGas: fc.bigInt({ min: 1n, max: 10n ** 12n }),
          }),
          { maxLength: 40 },
        ),
        (limit, already, payments) => {
          // What was signed before the sequence, at most the limit (as the ledger keeps it).
          let signedToday = already % (limit + 1n);
          const agent = view({ dailyLimitWei: limit });
          for (const p of payments) {
            const a = ask(p);
            if (paymentRefusal(a, A, agent, CHAIN, signedToday) === undefined) signedToday += costOf(a);
            expect(signedToday).toBeLessThanOrEqual(limit);
          }
        },
      ),
    );
  });
});
