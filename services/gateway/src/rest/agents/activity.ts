// An agent's activity log and its wallet's ledger as the agent paths answer
// them (docs/rest.md, "Claims and \"My agents\""): each entry's outcome and
// trust level by name, times in ISO 8601, amounts as decimal strings; and
// what a withdrawal from its wallet answers.

import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { SignedPayment } from "@convos-pool/gen/convos/pool/v1/payment_signer_service_pb.js";
import { ToolCallOutcome, type ActivityEntry } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { trustLevelName, type TrustLevelName } from "@convos-pool/kit/content";

export type OutcomeName = "done" | "failed" | "refused" | "denied" | "timed_out";

const OUTCOMES: Record<ToolCallOutcome, OutcomeName | ""> = {
  [ToolCallOutcome.UNSPECIFIED]: "",
  [ToolCallOutcome.DONE]: "done",
  [ToolCallOutcome.FAILED]: "failed",
  [ToolCallOutcome.REFUSED]: "refused",
  [ToolCallOutcome.DENIED]: "denied",
  [ToolCallOutcome.TIMED_OUT]: "timed_out",
};

export interface ActivityEntryJson {
  id: string;
  at: string | null;
  tool_id: string;
  action: string;
  target: string;
  amount_wei: string;
  outcome: OutcomeName | "";
  detail: string;
  trust_level: TrustLevelName | "";
  approved: boolean;
  asked_by: string;
  asked_by_role: string;
  asked_by_name: string;
}

/** One line of an agent's activity log: outcome and level by name, the time in ISO 8601. */
export function activityEntryToJson(e: ActivityEntry): ActivityEntryJson {
  return {
    id: e.id,
    at: e.at ? timestampDate(e.at).toISOString() : null,
    tool_id: e.toolId,
    action: e.action,
    target: e.target,
    amount_wei: e.amountWei,
    outcome: OUTCOMES[e.outcome] ?? "",
    detail: e.detail,
    trust_level: trustLevelName(e.trustLevel),
    approved: e.approved,
    asked_by: e.askedBy,
    asked_by_role: e.askedByRole,
    asked_by_name: e.askedByName,
  };
}

export interface SignedPaymentJson {
  sequence: string;
  chain_id: string;
  to: string;
  value_wei: string;
  max_fee_wei: string;
  nonce: string;
  transaction_hash: string;
  host_url: string;
  signed_at: string;
}

/** One signature of the pool's payment signer, as its ledger keeps it: numbers as decimal strings. */
export function signedPaymentToJson(p: SignedPayment): SignedPaymentJson {
  return {
    sequence: p.sequence.toString(),
    chain_id: p.chainId.toString(),
    to: p.to,
    value_wei: p.valueWei,
    max_fee_wei: p.maxFeeWei,
    nonce: p.nonce.toString(),
    transaction_hash: p.transactionHash,
    host_url: p.hostUrl,
    signed_at: p.signedAt,
  };
}

/** A page of an agent's activity (GET /api/pool/agents/{id}/activity, and POST …/activity/list whole). */
export interface ActivityPageJson {
  entries: ActivityEntryJson[];
  next_cursor: string | null;
  detailed: boolean;
  /** The pool's ledger of what its payment signer signed for the agent's wallet: only with the owner's signature. */
  signed_payments: SignedPaymentJson[];
}

/** What POST /api/pool/agents/{id}/withdraw answers: what was sent, where, in which transaction. */
export interface WithdrawalJson {
  amount_wei: string;
  to_address: string;
  transaction_hash: string;
}
