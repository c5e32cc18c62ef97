import path from "node:path";
import type { EntityManager } from "@mikro-orm/postgresql";
import { AgentMailProvider } from "./agentmail.js";
import { ChainWalletProvider } from "./chain-wallet.js";
import { LocalWalletProvider } from "./crypto.js";
import { DEFAULT_EMAIL_DOMAIN, LocalMailboxProvider } from "./email.js";
import type { ProviderSettings } from "./env.js";
import { DEFAULT_SMS_RANGE, LocalSmsProvider } from "./sms.js";
import { TelnyxNumberProvider } from "./telnyx-numbers.js";
import type { ToolProvider } from "./types.js";

export * from "./types.js";
export * from "./sms.js";
export * from "./email.js";
export * from "./crypto.js";
export * from "./chain-wallet.js";
export * from "./telnyx-numbers.js";
export * from "./agentmail.js";
export * from "./env.js";

export interface ProviderOptions extends ProviderSettings {
  em: EntityManager;
  /** Local mailboxes go to `<dataDir>/mailboxes`. */
  dataDir: string;
}

export interface Providers {
  /** The provider of each pool tool (sms, email, crypto), by tool id. */
  current: Map<string, ToolProvider>;
  /**
   * The local providers the settings replaced: they no longer provision, but
   * still release what they made before the pool moved to production ones.
   */
  retired: ToolProvider[];
}

/** Local providers, or the production ones the settings name (docs/tools.md, "Production providers"). */
export async function openProviders(opts: ProviderOptions): Promise<Providers> {
  const localSms = () => LocalSmsProvider.open(opts.em, opts.smsRange ?? DEFAULT_SMS_RANGE);
  const localMail = () =>
    new LocalMailboxProvider(path.join(opts.dataDir, "mailboxes"), opts.emailDomain ?? DEFAULT_EMAIL_DOMAIN);
  const current: ToolProvider[] = [
    opts.telnyx ? new TelnyxNumberProvider(opts.telnyx) : await localSms(),
    opts.agentmail ? new AgentMailProvider(opts.agentmail) : localMail(),
    opts.chain ? new ChainWalletProvider(opts.chain) : new LocalWalletProvider(),
  ];
  const retired: ToolProvider[] = [new LocalWalletProvider()];
  if (opts.telnyx) retired.push(await localSms());
  if (opts.agentmail) retired.push(localMail());
  return {
    current: new Map(current.map((p) => [p.toolId, p])),
    retired: retired.filter((r) => !current.some((c) => c.name === r.name)),
  };
}
