import { Client, createBackend, type ClientOptions, type Signer } from "@xmtp/node-sdk";
import { hexToBytes } from "viem";
import type { LocalAccount } from "viem/accounts";
import { ethereumIdentifier } from "./identity.js";

/** An XMTP signer for a local wallet (an agent's own key). */
export function walletSigner(account: LocalAccount): Signer {
  return {
    type: "EOA",
    getIdentifier: () => ethereumIdentifier(account.address),
    signMessage: async (message) => hexToBytes(await account.signMessage({ message })),
  };
}

export interface XmtpClientOptions {
  /** The XMTP node's API URL. */
  apiUrl: string;
  /** Where the client's encrypted database lives; null keeps it in memory. */
  dbPath: string | null;
  /** 32 bytes that encrypt the client's database. */
  dbEncryptionKey: Uint8Array;
  /** Content types beyond the SDK's own (for example Convos' profile messages). */
  codecs?: ClientOptions["codecs"];
  /**
   * One database connection instead of libxmtp's pool (up to 25 connections,
   * 5 kept open, and three threads): for processes that run many clients.
   */
  singleDbConnection?: boolean;
}

/**
 * An XMTP client on a given node, registered if new. Device sync is off: a
 * pool agent is one installation and there is no history server locally.
 */
export async function createXmtpClient(account: LocalAccount, opts: XmtpClientOptions): Promise<Client<unknown>> {
  const options: ClientOptions = {
    backend: await createBackend({ env: "local", apiUrl: opts.apiUrl }),
    dbPath: opts.dbPath,
    dbEncryptionKey: opts.dbEncryptionKey,
    disableDeviceSync: true,
    historySyncUrl: null,
    ...(opts.codecs ? { codecs: opts.codecs } : {}),
    ...(opts.singleDbConnection ? { useSingleConnection: true } : {}),
  };
  return Client.create(walletSigner(account), options);
}
