// The wallet functions' arguments as a model sends them, read in memory:
// typed when good, refused in words that name the argument when not; and
// the calls as the gate is told of them. The wallet is real; its chain is a
// closed port on this machine.
import { parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { ToolInputError, type DefinedTool, type RawArguments, type Reach } from "./tool.js";
import { WalletTool } from "../providers/wallet.js";
import { sendPayment, walletBalance } from "./wallet-tools.js";

const PAYEE = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const refusal = (tool: DefinedTool<unknown>, args: RawArguments) => {
  try {
    tool.parse(args, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ToolInputError);
    return (err as Error).message;
  }
  return "accepted";
};

describe("send_payment's arguments", () => {
  it("are read as a wallet address and an amount of ETH in wei", () => {
    expect(sendPayment.parse({ to: PAYEE, amount_eth: "0.01" }, {})).toEqual({
      to: PAYEE,
      amount_eth: parseEther("0.01"),
    });
    expect(sendPayment.parse({ to: ` ${PAYEE.toLowerCase()} `, amount_eth: "0.5 ETH" }, {})).toEqual({
      to: PAYEE.toLowerCase(),
      amount_eth: parseEther("0.5"),
    });
    expect(sendPayment.parse({ to: PAYEE, amount_eth: 2 }, {}).amount_eth).toBe(parseEther("2"));
    expect(sendPayment.parse({ to: PAYEE, amount_eth: "0.000000000000000001" }, {}).amount_eth).toBe(1n);
  });

  it("are refused, naming the argument, when one is missing or is not text", () => {
    expect(refusal(sendPayment, { amount_eth: "0.01" })).toBe("to is required");
    expect(refusal(sendPayment, { to: PAYEE })).toBe("amount_eth is required");
    expect(refusal(sendPayment, { to: PAYEE, amount_eth: { eth: 1 } })).toBe("amount_eth must be text");
  });

  it("are refused when the address or the amount is not one, quoting what was given", () => {
    for (const to of ["0x8ba1", "8ba1f109551bD432803012645Ac136ddd64DBA72", `${PAYEE}00`, "vitalik.eth"])
      expect(refusal(sendPayment, { to, amount_eth: "0.01" })).toBe(
        `"${to}" is not a wallet address (0x and 40 hex digits)`,
      );
    for (const amount_eth of ["lots", "-1", "1e18", "0.0000000000000000001", "1,5"])
      expect(refusal(sendPayment, { to: PAYEE, amount_eth })).toBe(
        `"${amount_eth}" is not an amount of ETH (for example 0.01)`,
      );
    expect(refusal(sendPayment, { to: PAYEE, amount_eth: "0" })).toBe("the amount must be more than 0");
  });
});

describe("wallet_balance's arguments", () => {
  it("are none: whatever the model sends is left alone", () => {
    expect(walletBalance.parse({}, {})).toEqual({});
    expect(walletBalance.parse({ address: PAYEE }, {})).toEqual({});
  });
});

describe("the wallet functions, as the gate is told of them", () => {
  const key = generatePrivateKey();
  const crypto: Reach["crypto"] = {
    handle: privateKeyToAccount(key).address,
    wallet: () => new WalletTool("http://127.0.0.1:9", privateKeyToAccount(key)),
  };

  it("a payment moves its amount to its recipient, and its statement names the chain, or says it could not be reached", async () => {
    const call = sendPayment.prepare({ to: PAYEE, amount_eth: "0.01" }, { crypto }, {});
    expect(call).toMatchObject({
      toolId: "crypto",
      action: "send_payment",
      risk: "money",
      target: PAYEE,
      amountWei: parseEther("0.01"),
      summary: `pay 0.01 ETH to ${PAYEE}`,
    });
    expect(await call.statement?.()).toBe(
      `Pay 0.01 ETH\nTo: ${PAYEE}\nOn chain: unknown (the chain could not be reached)`,
    );
  });

  it("the balance is a read of its own wallet, moving nothing", () => {
    expect(walletBalance.prepare({}, { crypto }, {})).toMatchObject({
      risk: "read",
      target: crypto.handle,
      amountWei: 0n,
      summary: "look at my wallet's balance",
    });
  });

  it("are refused before their arguments are read when the agent has no wallet this host reaches", () => {
    for (const tool of [sendPayment, walletBalance])
      expect(() => tool.prepare({}, {}, {})).toThrow(new ToolInputError("I have no wallet to do that with"));
  });
});
