/**
 * PaymentSignerService (payment_signer_service.proto): an agent's payments
 * signed here, where its wallet's key was made and is kept sealed, for the
 * host that runs it; the key never leaves (docs/security.md, "Agents'
 * money"). Only instance hosts may call it (CLAIMS_ACCESS), and only under a
 * host's own credential. Each signature is decided (policy.ts) and written to
 * the ledger (sql.ts) in one transaction before it is returned.
 */
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { PaymentSignerService } from "@convos-pool/gen/convos/pool/v1/payment_signer_service_pb.js";
import { firingTag } from "@convos-pool/kit/content";
import { callerHost, type Logger } from "@convos-pool/kit/server";
import type { EntityManager } from "@mikro-orm/postgresql";
import { createPublicClient, getAddress, type Hex, hexToBytes, http, keccak256 } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { secretAad, type SecretBox } from "../tools/secrets.js";
import { costOf, type PaymentAsk, paymentRefusal, readPaymentRequest } from "./policy.js";
import { lockAgent, recordSignature, signedToday } from "./sql.js";

export interface PaymentSignerDeps {
  em: EntityManager;
  /** What seals the tools' secrets (the agents' wallet keys among them). */
  secrets: SecretBox;
  /** The pool's chain, asked once; undefined: the pool has none and signs nothing. */
  chainId: () => Promise<bigint | undefined>;
  log: Logger;
}

/** The chain id of the JSON-RPC endpoint at `rpcUrl`, asked once (a failed ask is asked again); none without one. */
export function chainIdOf(rpcUrl: string | undefined): () => Promise<bigint | undefined> {
  if (!rpcUrl) return async () => undefined;
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: 10_000 }) });
  let once: Promise<bigint> | undefined;
  return () => {
    once ??= client.getChainId().then(BigInt, (err: unknown) => {
      once = undefined;
      throw err;
    });
    return once;
  };
}

export function createPaymentSignerService(deps: PaymentSignerDeps): ServiceImpl<typeof PaymentSignerService> {
  return {
    async signPayment(req, ctx) {
      const ask = readPaymentRequest(req);
      const host = callerHost(ctx);
      const poolChainId = await deps.chainId().catch((err: unknown) => {
        deps.log.warn("the pool's chain did not answer", { err });
        throw new ConnectError("the pool's chain does not answer just now; nothing was signed", Code.Unavailable);
      });
      return deps.em.fork().transactional(async (tx) => {
        const row = await lockAgent(tx, ask.instanceId);
        const today = row?.view.wallet ? await signedToday(tx, ask.instanceId, row.view.wallet) : 0n;
        const refusal = paymentRefusal(ask, host, row?.view, poolChainId, today);
        if (refusal) {
          deps.log.warn("payment signature refused", {
            instanceId: ask.instanceId,
            host: host ?? "(shared credential)",
            why: refusal.rawMessage,
          });
          throw refusal;
        }
        // What the policy allowed has all of these; said again for the type checker.
        const wallet = row?.view.wallet;
        if (!row || !wallet || !row.sealed || host === undefined)
          throw new Error(`the payment signer allowed ${ask.instanceId} without its wallet or host`);
        const key = deps.secrets.open(row.sealed, secretAad(ask.instanceId, "crypto")).private_key as Hex;
        const account = privateKeyToAccount(key);
        if (getAddress(account.address) !== wallet)
          throw new Error(`the sealed key of ${ask.instanceId}'s wallet is not its address's`);
        const signed = await account.signTransaction(transactionOf(ask));
        const hash = keccak256(signed);
        const maxFeeWei = ask.gas * ask.maxFeePerGas;
        const sequence = await recordSignature(tx, ask, wallet, maxFeeWei, hash, host);
        deps.log.info("payment signed", {
          instanceId: ask.instanceId,
          host,
          sequence: sequence.toString(),
          transactionHash: hash,
        });
        return {
          signedTransaction: hexToBytes(signed),
          transactionHash: hash,
          signedTodayWei: (today + costOf(ask)).toString(),
          dailyLimitWei: row.view.dailyLimitWei.toString(),
        };
      });
    },
  };
}

/**
 * The transaction a payment is: a plain transfer, EIP-1559 with a tip, legacy without; no calldata but a scheduled
 * payment's firing tag, made here from its firing id.
 */
function transactionOf(ask: PaymentAsk) {
  const common = {
    chainId: Number(ask.chainId),
    to: ask.to,
    value: ask.valueWei,
    nonce: Number(ask.nonce),
    gas: ask.gas,
    ...(ask.firingId !== undefined && { data: firingTag(ask.firingId) }),
  };
  return ask.maxPriorityFeePerGas === undefined
    ? { ...common, type: "legacy" as const, gasPrice: ask.maxFeePerGas }
    : {
        ...common,
        type: "eip1559" as const,
        maxFeePerGas: ask.maxFeePerGas,
        maxPriorityFeePerGas: ask.maxPriorityFeePerGas,
      };
}
