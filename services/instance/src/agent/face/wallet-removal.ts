// What an agent tells its owner when a new template version takes its wallet
// away (docs/tools.md, "When a version drops the wallet"). The pool gives the
// wallet back only once the agent applied the version (the claims service
// releases the tools a version no longer declares), and the balance goes to
// the owner's wallet, less nothing but what the pool itself granted. So the
// agent says so in its conversation before its UpdateTemplate answers, while
// it can still read its wallet. Pure: claim.ts reads the balance, asks this
// what to say and sends it.

import { formatReleaseKey } from "@convos-pool/kit/content";
import { formatWei } from "../../tools/trust/levels.js";

/** The pool's wallet tool. */
export const WALLET_TOOL = "crypto";
/** Characters of the template's name in the notice. */
export const MAX_NAME = 100;

/** What its wallet holds, as far as it could read it before the update. */
export type WalletBalance = { wei: bigint } | "unreadable";

/** Whether the version being applied takes the wallet away: it had one and the new tools have none. */
export function dropsWallet(before: readonly { toolId: string }[], after: readonly { toolId: string }[]): boolean {
  return before.some((t) => t.toolId === WALLET_TOOL) && !after.some((t) => t.toolId === WALLET_TOOL);
}

/**
 * The notice for its owner, or undefined when there is nothing to say: the
 * wallet stays, or it holds nothing. A balance that could not be read is
 * told all the same, without the amount: silence about money that may be
 * there would be worse than a notice about none.
 */
export function walletRemovalNotice(n: {
  /** The new version's agent name (the template's). */
  name: string;
  /** Its release key: the template's version, then its bases'. */
  key: readonly bigint[];
  /** It had a wallet and the new version has none (dropsWallet). */
  drops: boolean;
  balance: WalletBalance;
}): string | undefined {
  if (!n.drops) return undefined;
  if (n.balance !== "unreadable" && n.balance.wei === 0n) return undefined;
  const name = oneLine(n.name) || "this template";
  const held =
    n.balance === "unreadable"
      ? "Whatever my wallet holds (I could not read its balance just now) goes back to your wallet"
      : `The ${formatWei(n.balance.wei)} in my wallet goes back to your wallet`;
  return (
    `To my owner: version ${formatReleaseKey(n.key)} of ${name} no longer has a wallet. ` +
    `${held}; only what the pool granted returns to the pool. If the pool does not know your wallet, it waits for you to withdraw it.`
  );
}

/** A name on one line, at most MAX_NAME characters: a template's name is its creator's words. */
function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > MAX_NAME ? `${flat.slice(0, MAX_NAME - 1)}…` : flat;
}
