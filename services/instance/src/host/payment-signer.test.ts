// The host's side of the pool's payment signer (payment-signer.ts): what is
// not a plain transfer is refused here, before any call, and a plain one is
// asked of the signer field by field. Real: the host's code and viem's
// account; a stand-in: the claims service's PaymentSignerService, an
// in-memory Connect transport whose handler records each request and
// answers with fixed bytes (or refuses, when told to). The real signer's own
// refusals, over the wire: claims/src/signer/signer.int.test.ts.
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  encodeFunctionData,
  erc20Abi,
  type Hex,
  hexToBytes,
  parseEther,
  parseGwei,
  type TransactionSerializable,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeEach, describe, expect, it } from "vitest";
import {
  PaymentSignerService,
  type SignPaymentRequest,
} from "@convos-pool/gen/convos/pool/v1/payment_signer_service_pb.js";
import { firingTag } from "@convos-pool/kit/content";
import { type PaymentSigner, signerAccount, WalletError } from "../tools/providers/wallet.js";
import { paymentSignerOver } from "./payment-signer.js";

const WALLET = privateKeyToAccount(generatePrivateKey()).address;
const PAYEE = privateKeyToAccount(generatePrivateKey()).address;
const SIGNED: Hex = "0x02f86f827a69";

/** Each request the stand-in signer was sent. */
let asked: SignPaymentRequest[];
/** When set, the stand-in refuses with it instead of signing. */
let refuseWith: ConnectError | undefined;
let signer: PaymentSigner;

beforeEach(() => {
  asked = [];
  refuseWith = undefined;
  const transport = createRouterTransport(({ service }) =>
    service(PaymentSignerService, {
      signPayment: (req) => {
        asked.push(req);
        if (refuseWith) throw refuseWith;
        return { signedTransaction: hexToBytes(SIGNED), transactionHash: `0x${"ab".repeat(32)}` };
      },
    }),
  );
  signer = paymentSignerOver(createClient(PaymentSignerService, transport));
});

/** A plain EIP-1559 transfer of 0.01 ETH to PAYEE, with `more` over it. */
function transfer(more: Partial<TransactionSerializable> = {}): TransactionSerializable {
  return {
    type: "eip1559",
    chainId: 31337,
    to: PAYEE,
    value: parseEther("0.01"),
    nonce: 7,
    gas: 21_000n,
    maxFeePerGas: parseGwei("2"),
    maxPriorityFeePerGas: parseGwei("1"),
    ...more,
  } as TransactionSerializable;
}

/** What `p` was rejected with; fails the test when it was not rejected. */
async function refusal(p: Promise<unknown>): Promise<WalletError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WalletError);
  return err as WalletError;
}

describe("the host's payment signer refuses what is not a plain transfer, before asking", () => {
  const approve = encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [PAYEE, 2n ** 256n - 1n] });
  const refused: [string, TransactionSerializable, string][] = [
    ["a token approval (calldata to a contract)", transfer({ data: approve, value: 0n }), "it calls no contract"],
    ["calldata riding on a transfer", transfer({ data: "0xdeadbeef" }), "it calls no contract"],
    [
      "a contract creation (no `to`, bytecode)",
      transfer({ to: undefined, data: "0x6080604052" }),
      "it creates no contract",
    ],
    ["a transaction to no one, even without bytecode", transfer({ to: undefined }), "it creates no contract"],
    [
      "an EIP-7702 delegation of the wallet to a contract",
      transfer({
        type: "eip7702",
        authorizationList: [
          {
            address: PAYEE,
            chainId: 31337,
            nonce: 8,
            r: `0x${"11".repeat(32)}`,
            s: `0x${"22".repeat(32)}`,
            yParity: 0,
          },
        ],
      }),
      "it delegates to no contract",
    ],
  ];

  for (const [what, tx, why] of refused) {
    it(`refuses ${what}, as not sent, and sends the signer nothing`, async () => {
      const err = await refusal(signer.sign("inst_a", tx));
      expect(err.message).toBe(`the agent's wallet makes plain transfers only: ${why}`);
      expect(err.notSent).toBe(true);
      expect(asked).toEqual([]);
    });
  }

  it("refuses calldata asked of the agent's account (signerAccount over it) before any call", async () => {
    const account = signerAccount(signer, "inst_a", WALLET);
    const err = await refusal(account.signTransaction(transfer({ data: approve, value: 0n })));
    expect(err.message).toBe("the agent's wallet makes plain transfers only: it calls no contract");
    expect(asked).toEqual([]);
  });
});

describe("the host's payment signer asks the signer for a plain transfer", () => {
  it("sends an EIP-1559 transfer's every field, for its agent, and answers with the signed bytes", async () => {
    await expect(signer.sign("inst_a", transfer())).resolves.toBe(SIGNED);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({
      instanceId: "inst_a",
      chainId: 31337n,
      to: PAYEE,
      valueWei: parseEther("0.01").toString(),
      nonce: 7n,
      gas: 21_000n,
      maxFeePerGasWei: parseGwei("2").toString(),
      maxPriorityFeePerGasWei: parseGwei("1").toString(),
    });
  });

  it("takes empty calldata (0x) as a plain transfer", async () => {
    await expect(signer.sign("inst_a", transfer({ data: "0x" }))).resolves.toBe(SIGNED);
    expect(asked).toHaveLength(1);
  });

  it("sends a scheduled payment's firing tag as its firing id, the only data it passes on", async () => {
    const firing = "sch_0123456789abcdef01234567@2027-01-01T08:00:00Z";
    await expect(signer.sign("inst_a", transfer({ data: firingTag(firing), gas: 22_000n }))).resolves.toBe(SIGNED);
    expect(asked[0]?.firingId).toBe(firing);
    await expect(signer.sign("inst_a", transfer())).resolves.toBe(SIGNED);
    expect(asked[1]?.firingId).toBe("");
  });

  it("sends a legacy transfer's gas price as its max fee, with no tip", async () => {
    const legacy: TransactionSerializable = {
      type: "legacy",
      chainId: 31337,
      to: PAYEE,
      value: 1n,
      nonce: 0,
      gas: 21_000n,
      gasPrice: parseGwei("3"),
    };
    await expect(signer.sign("inst_a", legacy)).resolves.toBe(SIGNED);
    expect(asked[0]).toMatchObject({ maxFeePerGasWei: parseGwei("3").toString(), maxPriorityFeePerGasWei: "" });
  });

  it("passes the signer's refusal on as not sent, in the signer's words", async () => {
    refuseWith = new ConnectError("over the owner's daily limit: 0.002 ETH left today", Code.FailedPrecondition);
    const err = await refusal(signer.sign("inst_a", transfer()));
    expect(err.message).toBe(
      "the pool's payment signer did not sign it: over the owner's daily limit: 0.002 ETH left today",
    );
    expect(err.notSent).toBe(true);
    expect(asked).toHaveLength(1);
  });
});
