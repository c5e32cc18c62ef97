// A scheduled payment that pays once (docs/schedules.md, "What the host
// does"), decided, pure. Before its transaction is sent, the agent keeps its
// hash and nonce under the firing id (store.ts `keepPayment`); its data is
// the firing's tag (kit `firingTag`). A firing tried again after a crash
// asks the chain for the transaction kept, and pays only when none of its
// can land: nothing kept (nothing was signed), or the chain never saw it.
// Then it takes the nonce kept, unless another transaction used it, so that
// of two sends at most one is mined.

import { firingOfData } from "@convos-pool/kit/content";
import type { SentBefore } from "../providers/wallet.js";

/** What the agent kept of a firing's transaction before it was sent. */
export interface KeptPayment {
  hash: string;
  nonce: number;
}

export type PaymentPlan =
  /** Send it, through the gate; `nonce`: the one kept, which the transaction must take. */
  | { kind: "pay"; nonce?: number }
  /** It was paid: say so, send nothing. */
  | { kind: "paid"; hash: string }
  /** Not paid, and nothing is sent: said in words. */
  | { kind: "failed"; why: string }
  /** Not known yet (still to be mined, or the chain did not answer): UNAVAILABLE, the claims service tries again. */
  | { kind: "wait" };

/** What to do for `firingId`'s payment, given what was kept (`kept`) and what the chain says of it (`chain`; undefined: not asked or no answer). */
export function planPayment(
  firingId: string,
  kept: KeptPayment | undefined,
  chain: SentBefore | undefined,
): PaymentPlan {
  if (!kept) return { kind: "pay" };
  if (!chain) return { kind: "wait" };
  const tx = chain.found;
  if (!tx) return chain.minedNonce > kept.nonce ? { kind: "pay" } : { kind: "pay", nonce: kept.nonce };
  if (!tx.mined) return { kind: "wait" };
  if (firingOfData(tx.data) !== firingId)
    return { kind: "failed", why: `the transaction kept for it (${tx.hash}) is not this firing's; nothing sent again` };
  if (!tx.success) return { kind: "failed", why: `the chain reverted the payment (${tx.hash})` };
  return { kind: "paid", hash: tx.hash };
}
