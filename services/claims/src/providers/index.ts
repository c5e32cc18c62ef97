import path from "node:path";
import type { EntityManager } from "@mikro-orm/postgresql";
import { ChainWalletProvider, type ChainWalletOptions } from "./chain-wallet.js";
import { LocalWalletProvider } from "./crypto.js";
import { DEFAULT_EMAIL_DOMAIN, LocalMailboxProvider } from "./email.js";
import { DEFAULT_SMS_RANGE, LocalSmsProvider } from "./sms.js";
import type { ToolProvider } from "./types.js";

export * from "./types.js";
export * from "./sms.js";
export * from "./email.js";
export * from "./crypto.js";
export * from "./chain-wallet.js";

export interface LocalProviderOptions {
  em: EntityManager;
  /** Mailboxes go to `<dataDir>/mailboxes`. */
  dataDir: string;
  smsRange?: string;
  emailDomain?: string;
  /** A chain for wallets (funded from its faucet); absent: wallets are generated keys, unfunded. */
  chain?: ChainWalletOptions;
}

/** The local provider of every pool tool of seed 000 (sms, email, crypto), by tool id. */
export async function openLocalProviders(opts: LocalProviderOptions): Promise<Map<string, ToolProvider>> {
  const providers: ToolProvider[] = [
    await LocalSmsProvider.open(opts.em, opts.smsRange ?? DEFAULT_SMS_RANGE),
    new LocalMailboxProvider(path.join(opts.dataDir, "mailboxes"), opts.emailDomain ?? DEFAULT_EMAIL_DOMAIN),
    opts.chain ? new ChainWalletProvider(opts.chain) : new LocalWalletProvider(),
  ];
  return new Map(providers.map((p) => [p.toolId, p]));
}
