// The host's side of the pool's payment signer (claims' PaymentSignerService;
// docs/security.md, "Agents' money"): an agent's wallet key is never on this
// host, so each payment's transaction is signed there, under this host's own
// credential, and only within the limit the agent's owner signed. A refusal
// comes back as a WalletError that says why and that nothing was sent.

import { ConnectError } from "@connectrpc/connect";
import { PaymentSignerService } from "@convos-pool/gen/convos/pool/v1/payment_signer_service_pb.js";
import { type ClientCredentials, createServiceClient } from "@convos-pool/kit/server";
import { bytesToHex } from "viem";
import { type PaymentSigner, WalletError } from "../tools/wallet.js";

export function remotePaymentSigner(url: string, credentials: ClientCredentials): PaymentSigner & { close(): void } {
  const service = createServiceClient(PaymentSignerService, url, credentials);
  return {
    async sign(instanceId, tx) {
      if (tx.data !== undefined && tx.data !== "0x")
        throw new WalletError("the agent's wallet makes plain transfers only", { notSent: true });
      if (tx.chainId === undefined || tx.nonce === undefined || tx.gas === undefined || !tx.to)
        throw new WalletError("a payment needs its chain, nonce, gas and recipient", { notSent: true });
      const tip = "maxPriorityFeePerGas" in tx ? tx.maxPriorityFeePerGas : undefined;
      const maxFee =
        tip !== undefined && "maxFeePerGas" in tx ? tx.maxFeePerGas : "gasPrice" in tx ? tx.gasPrice : undefined;
      if (maxFee === undefined) throw new WalletError("a payment needs its fee per gas", { notSent: true });
      try {
        const res = await service.client.signPayment(
          {
            instanceId,
            chainId: BigInt(tx.chainId),
            to: tx.to,
            valueWei: (tx.value ?? 0n).toString(),
            nonce: BigInt(tx.nonce),
            gas: tx.gas,
            maxFeePerGasWei: maxFee.toString(),
            maxPriorityFeePerGasWei: tip === undefined ? "" : tip.toString(),
          },
          { timeoutMs: 15_000 },
        );
        return bytesToHex(res.signedTransaction);
      } catch (err) {
        const said = err instanceof ConnectError ? err.rawMessage : "the pool's payment signer did not answer";
        throw new WalletError(`the pool's payment signer did not sign it: ${said}`, { notSent: true, cause: err });
      }
    },
    close: () => service.close(),
  };
}
