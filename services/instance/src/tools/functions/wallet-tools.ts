// The functions of an agent's `crypto` tool: its wallet's balance, and a
// payment from it. The key stays in the wallet (providers/wallet.ts); the model sees
// addresses and amounts.

import { firingTag } from "@convos-pool/kit/content";
import { formatWei } from "../trust/levels.js";
import { defineTool, text, ToolInputError } from "./tool.js";
import { parseAmount } from "../providers/wallet.js";

function walletAddress(to: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(to))
    throw new ToolInputError(`"${to}" is not a wallet address (0x and 40 hex digits)`);
  return to;
}

/** "0.01" (ETH) in wei, above 0. */
function ethAmount(amount: string): bigint {
  try {
    return parseAmount(amount);
  } catch (err) {
    throw new ToolInputError(err instanceof Error ? err.message : String(err));
  }
}

export const walletBalance = defineTool({
  name: "wallet_balance",
  toolId: "crypto",
  risk: "read",
  description: (wallet) => `The balance of your wallet ${wallet}.`,
  parameters: {},
  target: (_, wallet) => wallet,
  summary: () => "look at my wallet's balance",
  run: async (_, crypto) => {
    const wallet = crypto.wallet();
    return { result: `wallet ${wallet.address} holds ${formatWei(await wallet.balance())}` };
  },
});

export const sendPayment = defineTool({
  name: "send_payment",
  toolId: "crypto",
  risk: "money",
  description: () =>
    "Pay ETH from your wallet to a wallet address. Moving money: your trust level decides whether your owner must approve it first.",
  parameters: {
    to: text("the wallet address (0x and 40 hex digits)", { check: walletAddress }),
    // Read as wei.
    amount_eth: text("the amount in ETH, for example 0.01", { check: ethAmount }),
  },
  target: ({ to }) => to,
  amountWei: ({ amount_eth: wei }) => wei,
  summary: ({ to, amount_eth: wei }) => `pay ${formatWei(wei)} to ${to}`,
  statement: async ({ to, amount_eth: wei }, crypto) =>
    `Pay ${formatWei(wei)}\nTo: ${to}\nOn chain: ${await crypto
      .wallet()
      .chainId()
      .catch(() => "unknown (the chain could not be reached)")}`,
  // Its gas counts against the daily limit: quoted before the gate decides, the send held to the quote.
  quote: ({ to, amount_eth: wei }, crypto, firing) => crypto.wallet().quote(to, wei, firing && firingTag(firing.id)),
  // A scheduled firing's payment carries its tag as the transaction's data (docs/schedules.md).
  run: async ({ to, amount_eth: wei }, crypto, quote, firing) => {
    const wallet = crypto.wallet();
    const mark = firing && { data: firingTag(firing.id), nonce: firing.nonce, signed: firing.signed };
    const { hash, chainId, feeWei } = await wallet.pay(to, wei, quote, mark);
    return {
      result: `paid ${formatWei(wei)} to ${to} (transaction ${hash})`,
      payment: { chainId, hash, from: wallet.address, to, wei },
      feeWei,
    };
  },
});
