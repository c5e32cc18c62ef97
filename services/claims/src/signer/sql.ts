/**
 * The payment signer's reads and its ledger (`signed_payments`, migration
 * 0027: append-only, a trigger refuses any change or deletion). A signature is
 * decided and written in one transaction that holds the agent's row (`for
 * update`), so two payments asked at once are counted one after the other and
 * never both against the same headroom under the limit.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { type Address, getAddress } from "viem";
import type { PaymentAsk, SignerView } from "./policy.js";

/** The agent as the signer sees it, with its wallet's sealed secrets; undefined when no such agent. */
export interface SignerRow {
  view: SignerView;
  /** The crypto tool's sealed secrets (tools/secrets.ts); null when it has none. */
  sealed: Buffer | null;
}

/** The agent's row, locked until the transaction `tx` ends. */
export async function lockAgent(tx: EntityManager, instanceId: string): Promise<SignerRow | undefined> {
  const [r] = await tx.execute<
    {
      state: string;
      host_url: string;
      wallet_index: number;
      moving_to: string | null;
      lost: boolean;
      trust_level: number;
      daily_spend_limit_wei: string;
      daily_spend_limit_confirmation: string | null;
      wallet: string | null;
      secret: Buffer | null;
    }[]
  >(
    `select i.state, i.host_url, i.wallet_index, i.moving_to, h.lost_at is not null as lost, i.trust_level,
            i.daily_spend_limit_wei, i.daily_spend_limit_confirmation, t.handle as wallet, t.secret
       from instances i
       left join instance_hosts h on h.url = i.host_url
       left join provisioned_tools t on t.instance_id = i.id and t.tool_id = 'crypto' and t.state = 'active'
      where i.id = ?
      for update of i`,
    [instanceId],
  );
  if (!r) return undefined;
  const limit = r.daily_spend_limit_wei.trim();
  return {
    view: {
      placement: {
        instanceId,
        hostUrl: r.host_url,
        walletIndex: r.wallet_index,
        hostLost: r.lost,
        movingTo: r.moving_to ?? "",
      },
      state: r.state,
      trustLevel: r.trust_level,
      dailyLimitWei: /^\d+$/.test(limit) ? BigInt(limit) : 0n,
      limitConfirmed: r.daily_spend_limit_confirmation !== null,
      ...(r.wallet ? { wallet: getAddress(r.wallet) } : {}),
    },
    sealed: r.secret,
  };
}

/**
 * What the signer signed for the agent's wallet in the last 24 hours: amounts and their gas at most, wei. By
 * wallet too: an agent released and claimed again by someone else has a new wallet, and a day of its own.
 */
export async function signedToday(tx: EntityManager, instanceId: string, wallet: string): Promise<bigint> {
  const [r] = await tx.execute<{ total: string }[]>(
    `select coalesce(sum(value_wei + max_fee_wei), 0)::text as total from signed_payments
      where instance_id = ? and wallet = ? and signed_at > now() - interval '24 hours'`,
    [instanceId, wallet],
  );
  return BigInt(r?.total ?? "0");
}

/** One signature, written to the ledger; its sequence. */
export async function recordSignature(
  tx: EntityManager,
  ask: PaymentAsk,
  wallet: Address,
  maxFeeWei: bigint,
  transactionHash: string,
  hostUrl: string,
): Promise<bigint> {
  const [r] = await tx.execute<{ sequence: string }[]>(
    `insert into signed_payments (instance_id, wallet, chain_id, to_address, value_wei, max_fee_wei, nonce, transaction_hash, host_url)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning sequence::text`,
    [
      ask.instanceId,
      wallet,
      ask.chainId.toString(),
      ask.to,
      ask.valueWei.toString(),
      maxFeeWei.toString(),
      ask.nonce.toString(),
      transactionHash,
      hostUrl,
    ],
  );
  if (!r) throw new Error("the ledger returned no sequence for a signature it took");
  return BigInt(r.sequence);
}

/** A ledger entry as the owner reads it. */
export interface LedgerEntry {
  sequence: bigint;
  chainId: bigint;
  to: string;
  valueWei: string;
  maxFeeWei: string;
  nonce: bigint;
  transactionHash: string;
  hostUrl: string;
  signedAt: Date;
}

/**
 * The ledger of the agent's present wallet, newest first, at most `limit` entries: not what an earlier owner's
 * wallet paid before the agent was released and claimed again.
 */
export async function ledgerOf(em: EntityManager, instanceId: string, limit: number): Promise<LedgerEntry[]> {
  const rows = await em.execute<
    {
      sequence: string;
      chain_id: string;
      to_address: string;
      value_wei: string;
      max_fee_wei: string;
      nonce: string;
      transaction_hash: string;
      host_url: string;
      signed_at: Date;
    }[]
  >(
    `select sequence::text, chain_id::text, to_address, value_wei::text, max_fee_wei::text, nonce::text,
            transaction_hash, host_url, signed_at
       from signed_payments s
      where s.instance_id = ?
        and lower(s.wallet) = (select lower(handle) from provisioned_tools where instance_id = ? and tool_id = 'crypto')
      order by sequence desc limit ?`,
    [instanceId, instanceId, limit],
  );
  return rows.map((r) => ({
    sequence: BigInt(r.sequence),
    chainId: BigInt(r.chain_id),
    to: r.to_address,
    valueWei: r.value_wei,
    maxFeeWei: r.max_fee_wei,
    nonce: BigInt(r.nonce),
    transactionHash: r.transaction_hash,
    hostUrl: r.host_url,
    signedAt: new Date(r.signed_at),
  }));
}
