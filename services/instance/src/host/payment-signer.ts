// The host's side of the pool's payment signer (claims' PaymentSignerService;
// docs/security.md, "Agents' money"): an agent's wallet key is never on this
// host, so each payment's transaction is signed there, under this host's own
// credential, and only within the limit the agent's owner signed. A refusal
// comes back as a WalletError that says why and that nothing was sent.

import { type Client, ConnectError } from "@connectrpc/connect";
import { PaymentSignerService } from "@convos-pool/gen/convos/pool/v1/payment_signer_service_pb.js";
import { firingOfData } from "@convos-pool/kit/content";
import { type ClientCredentials, createServiceClient } from "@convos-pool/kit/server";
import { bytesToHex } from "viem";
import { type PaymentSigner, WalletError } from "../tools/providers/wallet.js";

export function remotePaymentSigner(url: string, credentials: ClientCredentials): PaymentSigner & { close(): void } {
  const service = createServiceClient(PaymentSignerService, url, credentials);
  return { ...paymentSignerOver(service.client), close: () => service.close() };
}

/**
 * The same over any client of the signer (the host's over the wire, a test's in memory). What is not a plain
 * transfer is refused here, before any call: the signer's request has no field for calldata (a scheduled payment's
 * firing tag is made again there from its firing id), a contract to create or an authorization, so asking would sign
 * something other than what viem asked for.
 */
export function paymentSignerOver(client: Client<typeof PaymentSignerService>): PaymentSigner {
  return {
    async sign(instanceId, tx) {
      const plainOnly = (what: string) =>
        new WalletError(`the agent's wallet makes plain transfers only: ${what}`, { notSent: true });
      if (!tx.to) throw plainOnly("it creates no contract");
      // A scheduled payment's data is its firing tag, which the signer makes again from the firing id alone.
      const firingId = tx.data === undefined || tx.data === "0x" ? "" : firingOfData(tx.data);
      if (firingId === undefined) throw plainOnly("it calls no contract");
      if ("authorizationList" in tx && tx.authorizationList?.length) throw plainOnly("it delegates to no contract");
      if (tx.chainId === undefined || tx.nonce === undefined || tx.gas === undefined)
        throw new WalletError("a payment needs its chain, nonce and gas", { notSent: true });
      const tip = "maxPriorityFeePerGas" in tx ? tx.maxPriorityFeePerGas : undefined;
      const maxFee =
        tip !== undefined && "maxFeePerGas" in tx ? tx.maxFeePerGas : "gasPrice" in tx ? tx.gasPrice : undefined;
      if (maxFee === undefined) throw new WalletError("a payment needs its fee per gas", { notSent: true });
      try {
        const res = await client.signPayment(
          {
            instanceId,
            chainId: BigInt(tx.chainId),
            to: tx.to,
            valueWei: (tx.value ?? 0n).toString(),
            nonce: BigInt(tx.nonce),
            gas: tx.gas,
            maxFeePerGasWei: maxFee.toString(),
            maxPriorityFeePerGasWei: tip === undefined ? "" : tip.toString(),
            firingId,
          },
          { timeoutMs: 15_000 },
        );
        return bytesToHex(res.signedTransaction);
      } catch (err) {
        const said = err instanceof ConnectError ? err.rawMessage : "the pool's payment signer did not answer";
        throw new WalletError(`the pool's payment signer did not sign it: ${said}`, { notSent: true, cause: err });
      }
    },
  };
}
