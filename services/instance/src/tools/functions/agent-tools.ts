// The tools one agent holds, opened with their credentials, which the model
// never sees: which of them this host can reach, the functions offered to
// the model for those, and each call prepared for the gate. Both the
// functions and the dispatch come from the registry (registry.ts); each
// function is defined once, in its tool's file (tool.ts says how).

import type { Logger } from "@convos-pool/kit/server";
import { type Hex, isAddress, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { AgentMailClient } from "../providers/agentmail.js";
import { MailClient, type Mailbox } from "../providers/mail.js";
import { toolNamed, TOOLS } from "./registry.js";
import type { TelnyxClient } from "../providers/telnyx.js";
import {
  ToolInputError,
  type FiringMark,
  type FunctionSpec,
  type PreparedCall,
  type RawArguments,
  type Reach,
  type Settings,
  type ToolId,
} from "./tool.js";
import { formatWei } from "../trust/levels.js";
import { type PaymentSigner, type SentBefore, signerAccount, WalletTool } from "../providers/wallet.js";

/** Where the host's tools reach their providers (host options, from the environment). */
export interface ToolEnvironment {
  /** Mail for `email` tools with a password: SMTP to send, POP3 to read (the local mail server, or a provider's). */
  mail?: { smtpUrl: string; pop3Url: string };
  /** AgentMail's API (or the local stand-in) for `email` tools with an inbox-scoped `api_key`. */
  agentmail?: { apiUrl: string };
  /**
   * The chain `crypto` wallets live on, and the pool's payment signer, which signs their payments (their keys are
   * not on this host); without a signer, only a wallet whose key this host was given (tests of a host alone) pays.
   */
  chain?: { rpcUrl: string; signer?: PaymentSigner };
  /** Texts for `sms` tools: Telnyx's API (or the local stand-in). */
  sms?: {
    client: TelnyxClient;
    /** The messaging profile whose webhook is this host's: its agents' numbers are put on it. */
    profileId?: string;
  };
}

interface Held {
  toolId: string;
  handle: string;
}

const TOOL_IDS: readonly ToolId[] = ["sms", "email", "crypto"];

export class AgentTools {
  /** Each tool it holds that this host can reach, with what its calls run with. */
  private readonly reach: Partial<Reach> = {};
  private mailbox: Mailbox | undefined;
  private walletTool: WalletTool | undefined;

  constructor(
    env: ToolEnvironment,
    held: readonly Held[],
    secrets: Readonly<Record<string, Record<string, string>>>,
    /** The owner's settings (user tools): a value may be named instead of written out ("personal-email"). */
    private readonly settings: Settings,
    private readonly log: Logger,
    /** Whose tools: the payment signer signs for this agent. */
    instanceId = "",
  ) {
    const handle = (toolId: ToolId) => held.find((t) => t.toolId === toolId)?.handle;
    const number = handle("sms");
    if (number && env.sms) this.reach.sms = { handle: number, client: env.sms.client };
    const address = handle("email");
    const open = address ? mailboxOpener(env, address, secrets.email) : undefined;
    if (address && open) this.reach.email = { handle: address, mailbox: () => (this.mailbox ??= open()) };
    const wallet = handle("crypto");
    const chain = env.chain;
    const account = wallet && chain ? walletAccount(chain, instanceId, wallet, secrets.crypto?.private_key) : undefined;
    if (wallet && chain && account)
      this.reach.crypto = { handle: wallet, wallet: () => (this.walletTool ??= new WalletTool(chain.rpcUrl, account)) };
  }

  /** The tools it holds that this host can reach. */
  get usable(): ToolId[] {
    return TOOL_IDS.filter((id) => this.reach[id]);
  }

  get mail(): Mailbox | undefined {
    return this.reach.email?.mailbox();
  }

  /**
   * What its owner is told when it joins (docs/limits.md, "What the pool
   * pays for"): its wallet's address and balance, and that the owner funds
   * it; undefined without a wallet on a chain. A balance that cannot be read
   * is said so.
   */
  async walletNotice(): Promise<string | undefined> {
    const crypto = this.reach.crypto;
    if (!crypto) return undefined;
    const wallet = crypto.wallet();
    const balance = await wallet.balance().then(formatWei, () => "an amount I cannot read just now");
    return (
      `My wallet is ${wallet.address}; it holds ${balance}. ` +
      `To let me pay for you, my owner sends coins to that address; every payment from it is my owner's to allow.`
    );
  }

  /** Its wallet's address; undefined without a wallet this host reaches. */
  get walletAddress(): string | undefined {
    return this.reach.crypto?.handle;
  }

  /** Its wallet's balance in wei; undefined without a wallet this host reaches. Throws WalletError when unreadable. */
  async walletBalance(): Promise<bigint | undefined> {
    const crypto = this.reach.crypto;
    return crypto ? crypto.wallet().balance() : undefined;
  }

  /** The payment `hash` its wallet signed before, as the chain has it now (a scheduled firing's retry); undefined without a wallet. */
  paymentSent(hash: string): Promise<SentBefore> | undefined {
    return this.reach.crypto?.wallet().sentBefore(hash);
  }

  /** The functions offered to the model: those of the registry whose tool it holds and this host reaches. */
  specs(): FunctionSpec[] {
    return TOOLS.flatMap((tool) => {
      const reach = this.reach[tool.toolId];
      return reach ? [tool.spec(reach.handle)] : [];
    });
  }

  /**
   * Checks a call's arguments and puts it in words; throws ToolInputError. Runs nothing. `mailView`: the mailbox as
   * the call's turn may read it (routing/mailbox-view.ts).
   */
  prepare(name: string, args: RawArguments, mailView?: (m: Mailbox) => Mailbox, firing?: FiringMark): PreparedCall {
    const tool = toolNamed(name);
    if (!tool) throw new ToolInputError(`there is no function ${JSON.stringify(name)}`);
    const email = this.reach.email;
    const reach =
      email && mailView ? { ...this.reach, email: { ...email, mailbox: () => mailView(email.mailbox()) } } : this.reach;
    return tool.prepare(args, reach, this.settings, firing);
  }

  close(): void {
    this.mailbox?.close?.();
    this.log.debug("tools closed");
  }
}

/**
 * How its mailbox opens, by what its secrets carry and what this host reaches: AgentMail with the inbox's key,
 * or the mail server with the mailbox's password; undefined when neither.
 */
function mailboxOpener(
  env: ToolEnvironment,
  address: string,
  secrets: Readonly<Record<string, string>> | undefined,
): (() => Mailbox) | undefined {
  const apiKey = secrets?.api_key;
  const agentmail = env.agentmail;
  if (apiKey && agentmail) return () => new AgentMailClient({ apiUrl: agentmail.apiUrl, inboxId: address, apiKey });
  const password = secrets?.password;
  const mail = env.mail;
  if (password && mail) return () => new MailClient({ ...mail, address, password });
  return undefined;
}

/**
 * The account a wallet pays with: the pool's signer when the host has one (a key given anyway is not used), else
 * the key the host was given; none without either.
 */
function walletAccount(
  chain: NonNullable<ToolEnvironment["chain"]>,
  instanceId: string,
  wallet: string,
  key: string | undefined,
): LocalAccount | undefined {
  if (chain.signer && isAddress(wallet)) return signerAccount(chain.signer, instanceId, wallet);
  return key ? privateKeyToAccount(key as Hex) : undefined;
}
