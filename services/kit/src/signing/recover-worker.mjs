// Recovers EIP-712 signers off the main thread (see signature-workers.ts).
// Plain JavaScript so that it loads in any runtime the services run in.
import { parentPort } from "node:worker_threads";
import { recoverTypedDataAddress } from "viem";

parentPort.on("message", async ({ id, params }) => {
  try {
    parentPort.postMessage({ id, address: await recoverTypedDataAddress(params) });
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
