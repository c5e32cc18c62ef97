/**
 * Whether the payment signer signs, pure (docs/security.md, "Agents' money").
 * Deny by default: a signature only for the host that runs the agent, a plain
 * transfer of the coin on the pool's chain, and within the daily limit its
 * owner signed, or confirmed in Convos up to the cap (confirmed.ts), the
 * payment's gas at most counted with its amount. It reads no database and
 * holds no key (service.ts, sql.ts).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { SignPaymentRequest } from "@convos-pool/gen/convos/pool/v1/payment_signer_service_pb.js";
import {
  checkAll,
  CONFIRMED_DAILY_LIMIT_CAP_WEI,
  FIRING_ID,
  INSTANCE_ID_PATTERN,
  invalidArgument,
  mayActFor,
  type Placement,
  WEI_PATTERN,
} from "@convos-pool/kit/content";
import { type Address, formatEther, getAddress, isAddress, maxUint256 as MAX_UINT256 } from "viem";

/** What a plain transfer needs; less cannot be sent. */
export const TRANSFER_GAS = 21_000n;
/** A transaction's gas at most: more than any block holds is no payment. */
export const MAX_GAS = 30_000_000n;

/** Chain ids and nonces past this are no real chain's or wallet's (and viem signs them as numbers). */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A payment as asked, its numbers read. */
export interface PaymentAsk {
  instanceId: string;
  chainId: bigint;
  to: Address;
  valueWei: bigint;
  nonce: bigint;
  gas: bigint;
  maxFeePerGas: bigint;
  /** Undefined: a legacy transaction, at `maxFeePerGas` as its gas price. */
  maxPriorityFeePerGas?: bigint;
  /** The scheduled firing it carries out: its transaction's data is this tag alone (kit `firingTag`). */
  firingId?: string;
}

/** The agent as the signer sees it: where it runs, whether it is live, its wallet and its owner's signed limit. */
export interface SignerView {
  placement: Placement;
  state: string;
  trustLevel: number;
  /** The owner's daily limit, wei; 0: none set. */
  dailyLimitWei: bigint;
  /** The limit was confirmed in Convos (confirmed.ts), not signed: it holds up to the cap only. */
  limitConfirmed: boolean;
  /** Its wallet's address, when it holds one the pool made. */
  wallet?: Address;
}

const wei = (req: SignPaymentRequest, field: "value_wei" | "max_fee_per_gas_wei" | "max_priority_fee_per_gas_wei") => {
  const text = {
    value_wei: req.valueWei,
    max_fee_per_gas_wei: req.maxFeePerGasWei,
    max_priority_fee_per_gas_wei: req.maxPriorityFeePerGasWei,
  }[field];
  if (!WEI_PATTERN.test(text)) throw invalidArgument(field, "must be a whole number of wei (decimal digits)");
  const value = BigInt(text);
  if (value > MAX_UINT256) throw invalidArgument(field, "must fit a transaction (at most 2^256 - 1)");
  return value;
};

/** A request's fields read and checked; one INVALID_ARGUMENT naming every field that is not right. */
export function readPaymentRequest(req: SignPaymentRequest): PaymentAsk {
  let valueWei = 0n;
  let maxFeePerGas = 0n;
  let tip: bigint | undefined;
  checkAll(
    () => {
      if (!INSTANCE_ID_PATTERN.test(req.instanceId))
        throw invalidArgument("instance_id", 'must be an instance id such as "inst_" followed by 16 letters or digits');
    },
    () => {
      if (req.chainId === 0n || req.chainId > MAX_SAFE)
        throw invalidArgument("chain_id", "must name the chain (the pool's)");
    },
    () => {
      if (req.nonce > MAX_SAFE) throw invalidArgument("nonce", `must be at most ${MAX_SAFE}`);
    },
    () => {
      if (!isAddress(req.to, { strict: false }))
        throw invalidArgument("to", "must be an address: 0x and 40 hex digits");
    },
    () => {
      valueWei = wei(req, "value_wei");
      if (valueWei === 0n) throw invalidArgument("value_wei", "must be more than 0");
    },
    () => {
      if (req.gas < TRANSFER_GAS || req.gas > MAX_GAS)
        throw invalidArgument("gas", `must be from ${TRANSFER_GAS} (a plain transfer) to ${MAX_GAS}`);
    },
    () => {
      maxFeePerGas = wei(req, "max_fee_per_gas_wei");
      if (maxFeePerGas === 0n) throw invalidArgument("max_fee_per_gas_wei", "must be more than 0");
    },
    () => {
      if (req.firingId !== "" && !FIRING_ID.test(req.firingId))
        throw invalidArgument("firing_id", "must be a firing id such as sch_…@2026-12-04T17:00:00Z, or empty");
    },
    () => {
      if (req.maxPriorityFeePerGasWei === "") return;
      tip = wei(req, "max_priority_fee_per_gas_wei");
      // Weighed against the max fee only once that was read (0: refused above, named there).
      if (maxFeePerGas > 0n && tip > maxFeePerGas)
        throw invalidArgument("max_priority_fee_per_gas_wei", "must not be above max_fee_per_gas_wei");
    },
  );
  const ask: PaymentAsk = {
    instanceId: req.instanceId,
    chainId: req.chainId,
    to: getAddress(req.to),
    valueWei,
    nonce: req.nonce,
    gas: req.gas,
    maxFeePerGas,
  };
  if (tip !== undefined) ask.maxPriorityFeePerGas = tip;
  if (req.firingId !== "") ask.firingId = req.firingId;
  return ask;
}

/** What a payment may take from the wallet at most: its amount and its gas at the most it may pay per gas. */
export function costOf(ask: PaymentAsk): bigint {
  return ask.valueWei + ask.gas * ask.maxFeePerGas;
}

const precondition = (message: string) => new ConnectError(message, Code.FailedPrecondition);

/**
 * Why the signer does not sign `ask` for `callerHost` (undefined: the hosts' shared credential), given the agent
 * (`view`; undefined: no such agent), the pool's chain (undefined: none) and what it signed for the agent in the
 * last 24 hours; undefined when it signs. The host is checked first, so that a host the agent is not placed on
 * learns nothing of it but that it is not its own (and, as any host may, whether such an id exists).
 */
export function paymentRefusal(
  ask: PaymentAsk,
  callerHost: string | undefined,
  view: SignerView | undefined,
  poolChainId: bigint | undefined,
  signedTodayWei: bigint,
): ConnectError | undefined {
  if (callerHost === undefined)
    return new ConnectError(
      "an agent's payments are signed only for the host that runs it, under that host's own credential (instance-host@<its address> in POOL_SERVICE_DIGESTS), not the hosts' shared one",
      Code.PermissionDenied,
    );
  if (!view) return new ConnectError(`instance_id: no agent ${ask.instanceId} in this pool`, Code.NotFound);
  if (!mayActFor(view.placement, callerHost))
    return new ConnectError(
      `instance_id: ${ask.instanceId} runs on another host; its payments are signed for that host alone`,
      Code.PermissionDenied,
    );
  if (view.state !== "claimed") return precondition(`instance_id: ${ask.instanceId} is not claimed; it pays nothing`);
  if (!view.wallet)
    return new ConnectError(`instance_id: ${ask.instanceId} holds no wallet the pool made`, Code.NotFound);
  if (poolChainId === undefined) return precondition("this pool has no chain: it signs no payment");
  if (ask.chainId !== poolChainId)
    return precondition(`chain_id: ${ask.chainId} is not the pool's chain (${poolChainId})`);
  if (view.trustLevel < 2 || view.dailyLimitWei === 0n)
    return precondition(
      `${ask.instanceId}'s owner has signed no spending limit for its wallet: it pays nothing until they set one with its trust level`,
    );
  // A confirmed limit is never recorded above the cap (confirmed.ts); one that is is no limit the signer takes.
  if (view.limitConfirmed && view.dailyLimitWei > CONFIRMED_DAILY_LIMIT_CAP_WEI)
    return precondition(
      `${ask.instanceId}'s daily limit was confirmed in Convos, not signed, and is above ${formatEther(CONFIRMED_DAILY_LIMIT_CAP_WEI)} ETH, the most such a limit may be: it pays nothing until its owner signs one`,
    );
  const cost = costOf(ask);
  if (signedTodayWei + cost > view.dailyLimitWei) {
    const left = view.dailyLimitWei > signedTodayWei ? view.dailyLimitWei - signedTodayWei : 0n;
    const how = view.limitConfirmed ? "confirmed in Convos" : "signed";
    return precondition(
      `over the daily limit its owner ${how} (${view.dailyLimitWei} wei in 24 hours): ${signedTodayWei} wei signed already, ${left} wei left, and this payment may take ${cost} wei with its gas`,
    );
  }
  return undefined;
}
