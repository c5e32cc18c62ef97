import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { ProvisionedResource, ToolProvider } from "./types.js";

/**
 * The local crypto provider: a freshly generated wallet per instance. The
 * address is the handle, the private key the secret; the key exists nowhere
 * but in the instance and, sealed, in the tool's row, so deleting the row on
 * release is what frees it (nothing else to give back).
 */
export class LocalWalletProvider implements ToolProvider {
  readonly toolId = "crypto";
  readonly name = "local-wallet";

  async provision(): Promise<ProvisionedResource> {
    const privateKey = generatePrivateKey();
    const account = privateKeyToAccount(privateKey);
    return { handle: account.address, secrets: { private_key: privateKey } };
  }

  async release(): Promise<void> {}
}
