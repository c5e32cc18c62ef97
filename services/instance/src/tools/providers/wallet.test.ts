// The agent's wallet as viem signs with it on a host (signerAccount): it
// signs payments through the pool's payment signer and nothing else. The
// signer here is a stand-in that records what it was asked and answers with
// fixed bytes; the real one, over the wire: host/payment-signer.test.ts, and
// against the claims service: claims/src/signer/signer.int.test.ts.
import { type Hex, parseEther, parseGwei, type TransactionSerializable } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { type PaymentSigner, signerAccount, WalletError } from "./wallet.js";

const WALLET = privateKeyToAccount(generatePrivateKey()).address;
const PAYEE = privateKeyToAccount(generatePrivateKey()).address;
const SIGNED: Hex = "0x02f8aa";

/** A payment signer that records each ask and signs each with SIGNED. */
function recordingSigner() {
  const asked: { instanceId: string; tx: TransactionSerializable }[] = [];
  const signer: PaymentSigner = {
    sign: async (instanceId, tx) => {
      asked.push({ instanceId, tx });
      return SIGNED;
    },
  };
  return { signer, asked };
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

describe("signerAccount", () => {
  it("refuses to sign a message, saying it signs payments only, and asks the signer nothing", async () => {
    const { signer, asked } = recordingSigner();
    const account = signerAccount(signer, "inst_a", WALLET);
    const err = await refusal(account.signMessage({ message: "I, the agent, approve" }));
    expect(err.message).toBe("the agent's wallet signs payments only, no message");
    expect(err.notSent).toBe(true);
    expect(asked).toEqual([]);
  });

  it("refuses to sign typed data (an EIP-2612 permit, say), and asks the signer nothing", async () => {
    const { signer, asked } = recordingSigner();
    const account = signerAccount(signer, "inst_a", WALLET);
    const permit = account.signTypedData({
      domain: { name: "Token", version: "1", chainId: 1, verifyingContract: PAYEE },
      types: {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
        ],
      },
      primaryType: "Permit",
      message: { owner: WALLET, spender: PAYEE, value: 2n ** 256n - 1n },
    });
    const err = await refusal(permit);
    expect(err.message).toBe("the agent's wallet signs payments only, no message");
    expect(asked).toEqual([]);
  });

  it("has no way to sign a raw hash or an EIP-7702 authorization", () => {
    const account = signerAccount(recordingSigner().signer, "inst_a", WALLET);
    expect(account.sign).toBeUndefined();
    expect(account.signAuthorization).toBeUndefined();
  });

  it("hands a plain transfer to the signer for its agent, as given, and answers with the signer's signature", async () => {
    const { signer, asked } = recordingSigner();
    const account = signerAccount(signer, "inst_a", WALLET);
    const tx: TransactionSerializable = {
      type: "eip1559",
      chainId: 31337,
      to: PAYEE,
      value: parseEther("0.01"),
      nonce: 4,
      gas: 21_000n,
      maxFeePerGas: parseGwei("2"),
      maxPriorityFeePerGas: parseGwei("1"),
    };
    expect(account.address).toBe(WALLET);
    await expect(account.signTransaction(tx)).resolves.toBe(SIGNED);
    expect(asked).toEqual([{ instanceId: "inst_a", tx }]);
  });
});
