/**
 * An agent's money for its owner's page (GetAgentFunds): the agent answers
 * from its own wallet and money ledger (its balance, what it spent in the
 * last 24 hours, its daily limit); the pool adds whose share is whose, by the
 * grant it recorded with the wallet (docs/tools.md, "Whose money a wallet
 * holds"). The owner's only, signed in: anyone else, and an agent that is not
 * live, is NOT_FOUND, so a member of the conversation learns neither the
 * balance nor that the agent has one.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { GetAgentFundsResponseSchema } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type { GetFundsResponse } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { requireString } from "@convos-pool/kit/content";
import { splitBalance } from "../providers/wallet-funds.js";
import { askAgent, type InstanceRef } from "../hosts/runtime.js";
import { grantedWei } from "../tools/sql.js";
import { ownersAgent } from "./owner-call.js";

export interface FundsDeps {
  em: EntityManager;
  runtime: { getFunds(instance: InstanceRef): Promise<GetFundsResponse> };
}

/** The agent's answer with the shares: the grant's part of the balance is the pool's, the rest the owner's. */
export function withShares(
  funds: GetFundsResponse,
  granted: bigint,
): MessageInitShape<typeof GetAgentFundsResponseSchema> {
  const balance = /^\d+$/.test(funds.balanceWei) ? BigInt(funds.balanceWei) : 0n;
  const { owner, pool } = splitBalance(balance, granted);
  return {
    walletAddress: funds.walletAddress,
    balanceWei: balance.toString(),
    ownerShareWei: owner.toString(),
    poolShareWei: pool.toString(),
    spentTodayWei: funds.spentTodayWei,
    dailySpendLimitWei: funds.dailySpendLimitWei,
    trustLevel: funds.trustLevel,
  };
}

/** No session: UNAUTHENTICATED; no id: INVALID_ARGUMENT naming `instance_id`; not the caller's live agent: NOT_FOUND. */
export async function getAgentFunds(
  deps: FundsDeps,
  instanceId: string,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof GetAgentFundsResponseSchema>> {
  requireString("instance_id", instanceId);
  const { ref } = await ownersAgent(deps)(instanceId, ctx);
  const funds = await askAgent("its wallet", () => deps.runtime.getFunds(ref));
  return withShares(funds, await grantedWei(deps.em.fork(), instanceId));
}
