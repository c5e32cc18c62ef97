// How the agent speaks once it has decided to answer (docs/instance.md,
// "Manners"): in a group its answer is a reply to the message it answers;
// markdown when the answer has structure; Convos' thinking status anchored
// to the message while the turn runs, a typing indicator when there is no
// message to anchor to; a payment it made as a transaction reference. Pure:
// send.ts sends what this decides.

import type { TransactionReference } from "@xmtp/node-sdk";
import { formatEther, toHex } from "viem";
import type { PaymentMade } from "../../tools/functions/tool.js";

/** Members (the agent among them) from which a conversation is a group: answers there are replies. */
export const GROUP_MEMBERS = 3;

/** What Convos shows beside "thinking" (its content type asks for a 3–5 word label). */
export const THINKING_LABEL = "Working on an answer";

/** How an answer goes out: a reply to a message, or on its own; markdown or plain text. */
export interface AnswerForm {
  /** The message it replies to; absent: a message of its own. */
  replyTo?: string;
  markdown: boolean;
}

/**
 * The form of `text` in a conversation of `members`, answering the message
 * `answering` (none for a text from outside, a mail notice): a reply in a
 * group, where several people talk at once and an answer must say what it
 * answers; on its own with one person, where the answer follows the question
 * anyway and a quote of it would only repeat it.
 */
export function answerForm(text: string, members: number, answering?: string): AnswerForm {
  return {
    ...(answering && members >= GROUP_MEMBERS ? { replyTo: answering } : {}),
    markdown: hasStructure(text),
  };
}

const HEADING = /^#{1,6}\s+\S/;
const LIST_ITEM = /^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+\S/;
const FENCE = /^\s{0,3}(```|~~~)/;
const TABLE_ROW = /^\s*\|.*\|\s*$/;
const TABLE_RULE = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

/**
 * Whether `text` has the structure markdown is for: a heading, a list of two
 * or more items, a fenced code block, a table. Emphasis, a link or inline
 * code alone are not: a client that shows plain text shows them as written,
 * and one that renders markdown gains little.
 */
export function hasStructure(text: string): boolean {
  const lines = text.split(/\r?\n/);
  let items = 0;
  let fences = 0;
  for (const [i, line] of lines.entries()) {
    if (HEADING.test(line)) return true;
    if (FENCE.test(line) && ++fences === 2) return true;
    if (TABLE_ROW.test(line) && TABLE_RULE.test(lines[i + 1] ?? "") && /\|/.test(lines[i + 1] ?? "")) return true;
    if (LIST_ITEM.test(line) && ++items === 2) return true;
  }
  return false;
}

/**
 * An amount in wei as XMTP's transaction reference carries it: a whole
 * number of units and their decimals. A JavaScript number holds wei exactly
 * only up to 2^53 (about 0.009 ETH), so larger amounts count in larger units
 * (fewer decimals), exactly while the amount ends in zeros, rounded past that.
 */
export function tokenAmount(wei: bigint): { amount: number; decimals: number } {
  let units = wei;
  let decimals = 18;
  while (units > BigInt(Number.MAX_SAFE_INTEGER) && decimals > 0) {
    units = units % 10n === 0n ? units / 10n : (units + 5n) / 10n;
    decimals -= 1;
  }
  return { amount: Number(units), decimals };
}

/**
 * The transaction reference of a payment (eip155, the chain id in hex as
 * XMTP's examples write it), and the text a client without the content type
 * shows instead.
 */
export function paymentReference(p: PaymentMade): { reference: TransactionReference; fallback: string } {
  return {
    reference: {
      namespace: "eip155",
      networkId: toHex(p.chainId),
      reference: p.hash,
      metadata: {
        transactionType: "transfer",
        currency: "ETH",
        ...tokenAmount(p.wei),
        fromAddress: p.from,
        toAddress: p.to,
      },
    },
    fallback: `Paid ${formatEther(p.wei)} ETH to ${p.to} on chain ${p.chainId}: transaction ${p.hash}`,
  };
}
