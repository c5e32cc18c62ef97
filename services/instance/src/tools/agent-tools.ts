// The functions an agent can call with the pool tools it holds, described
// for the model (OpenAI function calling) and run here with the tools'
// credentials, which the model never sees. Each call is first `prepare`d:
// its arguments checked and what it would do put in words, for the trust
// check, the owner's approval and the activity log (gate.ts).

import type { Logger } from "@convos-pool/kit";
import { AgentMailClient } from "./agentmail.js";
import { MailClient, MailError, type Mailbox } from "./mail.js";
import { SmsError, type TelnyxClient } from "./telnyx.js";
import { formatWei, type Risk } from "./trust.js";
import { WalletError, WalletTool, parseAmount } from "./wallet.js";

/** Where the host's tools reach their providers (host options, from the environment). */
export interface ToolEnvironment {
  /** Mail for `email` tools with a password: SMTP to send, POP3 to read (the local mail server, or a provider's). */
  mail?: { smtpUrl: string; pop3Url: string };
  /** AgentMail's API (or the local stand-in) for `email` tools with an inbox-scoped `api_key`. */
  agentmail?: { apiUrl: string };
  /** The chain `crypto` wallets live on. */
  chain?: { rpcUrl: string };
  /** Texts for `sms` tools: Telnyx's API (or the local stand-in). */
  sms?: {
    client: TelnyxClient;
    /** The messaging profile whose webhook is this host's: its agents' numbers are put on it. */
    profileId?: string;
  };
}

/** A function for the model: OpenAI's `tools[].function`. */
export interface FunctionSpec {
  name: string;
  description: string;
  parameters: { type: "object"; properties: Record<string, { type: string; description: string }>; required: string[] };
}

/** A payment that went out: what its transaction reference in the conversation says (agent/manners.ts). */
export interface PaymentMade {
  chainId: number;
  /** The transaction's hash. */
  hash: string;
  from: string;
  to: string;
  wei: bigint;
}

/** What a call did: its result in words (for the model and the log), and the payment it made, if it made one. */
export interface Ran {
  result: string;
  payment?: PaymentMade;
}

/** One call, checked and described, ready to run. */
export interface PreparedCall {
  toolId: string;
  action: string;
  risk: Risk;
  target: string;
  amountWei: bigint;
  /** What it would do, in one line for the activity log: "text +15550100001: “running late”". */
  summary: string;
  /** What it would do in full, for the owner's approval (every field the action sends); default: the summary. */
  statement?: () => Promise<string>;
  /** Its result carries words from outside the conversation (mail, which anyone can send). */
  outsideWords?: boolean;
  run(): Promise<Ran>;
}

/** Bad arguments, in words the model (or the person) can act on. */
export class ToolInputError extends Error {}

/** The errors a tool reports in plain words; anything else is reported without its details. */
export function plainFailure(err: unknown, toolId: string): string {
  if (
    err instanceof SmsError ||
    err instanceof MailError ||
    err instanceof WalletError ||
    err instanceof ToolInputError
  )
    return err.message;
  return `the ${toolId} tool failed unexpectedly`;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$|^[^\s@<>()",;:]+@[a-z0-9-]+\.localhost$/i;
const MAX_TEXT = 1600;
const MAX_MAIL = 64 * 1024;

const quote = (s: string, n = 80) => `“${s.length > n ? `${s.slice(0, n - 1)}…` : s}”`;

function str(args: Record<string, unknown>, name: string, opts: { optional?: boolean; max?: number } = {}): string {
  const v = args[name];
  if (v === undefined || v === null || v === "") {
    if (opts.optional) return "";
    throw new ToolInputError(`${name} is required`);
  }
  if (typeof v !== "string" && typeof v !== "number") throw new ToolInputError(`${name} must be text`);
  const s = String(v).trim();
  if (opts.max && s.length > opts.max) throw new ToolInputError(`${name} is longer than ${opts.max} characters`);
  return s;
}

interface Held {
  toolId: string;
  handle: string;
}

export class AgentTools {
  private mailClient: Mailbox | undefined;
  private walletTool: WalletTool | undefined;

  constructor(
    private readonly env: ToolEnvironment,
    private readonly held: readonly Held[],
    private readonly secrets: Readonly<Record<string, Record<string, string>>>,
    /** The owner's settings (user tools): a value may be named instead of written out ("personal-email"). */
    private readonly settings: Readonly<Record<string, string>>,
    private readonly log: Logger,
  ) {}

  private handle(toolId: string): string | undefined {
    return this.held.find((t) => t.toolId === toolId)?.handle;
  }

  /** The tools it holds that this host can reach. */
  get usable(): string[] {
    const out: string[] = [];
    if (this.handle("sms") && this.env.sms) out.push("sms");
    if (this.handle("email") && this.mailboxKind()) out.push("email");
    if (this.handle("crypto") && this.env.chain && this.secrets.crypto?.private_key) out.push("crypto");
    return out;
  }

  /** Who keeps its mailbox, by what its secrets carry and what this host reaches: AgentMail's key, or the mail server's password. */
  private mailboxKind(): "agentmail" | "mail" | undefined {
    const secrets = this.secrets.email;
    if (secrets?.api_key && this.env.agentmail) return "agentmail";
    if (secrets?.password && this.env.mail) return "mail";
    return undefined;
  }

  get mail(): Mailbox | undefined {
    if (!this.usable.includes("email")) return undefined;
    return (this.mailClient ??= this.openMailbox());
  }

  private openMailbox(): Mailbox {
    const address = this.handle("email")!;
    const secrets = this.secrets.email!;
    if (this.mailboxKind() === "agentmail")
      return new AgentMailClient({ apiUrl: this.env.agentmail!.apiUrl, inboxId: address, apiKey: secrets.api_key! });
    return new MailClient({ ...this.env.mail!, address, password: secrets.password! });
  }

  /**
   * What its owner is told when it joins (docs/limits.md, "What the pool
   * pays for"): its wallet's address and balance, and that the owner funds
   * it; undefined without a wallet on a chain. A balance that cannot be read
   * is said so.
   */
  async walletNotice(): Promise<string | undefined> {
    if (!this.usable.includes("crypto")) return undefined;
    const balance = await this.wallet.balance().then(formatWei, () => "an amount I cannot read just now");
    return (
      `My wallet is ${this.wallet.address}; it holds ${balance}. ` +
      `To let me pay for you, my owner sends coins to that address; every payment from it is my owner's to allow.`
    );
  }

  private get wallet(): WalletTool {
    return (this.walletTool ??= new WalletTool(this.env.chain!.rpcUrl, this.secrets.crypto!.private_key!));
  }

  /** A setting's value when `value` names one ("personal-email"), else `value`. */
  private resolve(value: string): string {
    return this.settings[value] ?? value;
  }

  specs(): FunctionSpec[] {
    const usable = this.usable;
    const specs: FunctionSpec[] = [];
    const p = (type: string, description: string) => ({ type, description });
    if (usable.includes("sms")) {
      specs.push({
        name: "send_sms",
        description: `Text a phone number from your number ${this.handle("sms")}.`,
        parameters: {
          type: "object",
          properties: {
            to: p("string", "E.164 phone number, for example +15550100001"),
            text: p("string", "the text, at most 1600 characters"),
          },
          required: ["to", "text"],
        },
      });
    }
    if (usable.includes("email")) {
      specs.push(
        {
          name: "send_email",
          description: `Send an email from your address ${this.handle("email")}.`,
          parameters: {
            type: "object",
            properties: {
              to: p("string", "an email address, or the name of a setting from your owner that holds one"),
              subject: p("string", "the subject"),
              text: p("string", "the body, plain text"),
            },
            required: ["to", "subject", "text"],
          },
        },
        {
          name: "list_email",
          description: "List the newest mail in your inbox: id, sender, subject, date.",
          parameters: {
            type: "object",
            properties: { limit: p("integer", "how many, 1 to 20 (default 10)") },
            required: [],
          },
        },
        {
          name: "read_email",
          description: "Read one mail of your inbox by its id (from list_email).",
          parameters: { type: "object", properties: { id: p("string", "the id list_email gave") }, required: ["id"] },
        },
      );
    }
    if (usable.includes("crypto")) {
      specs.push(
        {
          name: "wallet_balance",
          description: `The balance of your wallet ${this.handle("crypto")}.`,
          parameters: { type: "object", properties: {}, required: [] },
        },
        {
          name: "send_payment",
          description:
            "Pay ETH from your wallet to a wallet address. Moving money: your trust level decides whether your owner must approve it first.",
          parameters: {
            type: "object",
            properties: {
              to: p("string", "the wallet address (0x and 40 hex digits)"),
              amount_eth: p("string", "the amount in ETH, for example 0.01"),
            },
            required: ["to", "amount_eth"],
          },
        },
      );
    }
    return specs;
  }

  /** Checks a call's arguments and puts it in words; throws ToolInputError. Runs nothing. */
  prepare(name: string, args: Record<string, unknown>): PreparedCall {
    const usable = this.usable;
    const need = (toolId: string) => {
      if (!usable.includes(toolId))
        throw new ToolInputError(
          `I have no ${toolId === "crypto" ? "wallet" : toolId === "sms" ? "phone number" : "mailbox"} to do that with`,
        );
    };
    switch (name) {
      case "send_sms": {
        need("sms");
        const to = this.resolve(str(args, "to"));
        if (!E164.test(to))
          throw new ToolInputError(`"${to}" is not a phone number in international form (for example +15550100001)`);
        const text = str(args, "text", { max: MAX_TEXT });
        const from = this.handle("sms")!;
        return {
          toolId: "sms",
          action: name,
          risk: "act",
          target: to,
          amountWei: 0n,
          summary: `text ${to}: ${quote(text)}`,
          statement: async () => `Send a text\nTo: ${to}\nText: ${text}`,
          run: async () => {
            const sent = await this.env.sms!.client.sendMessage(from, to, text);
            return { result: `texted ${to} (message ${sent.id})` };
          },
        };
      }
      case "send_email": {
        need("email");
        const to = this.resolve(str(args, "to"));
        if (!EMAIL.test(to)) throw new ToolInputError(`"${to}" is not an email address`);
        const subject = str(args, "subject", { max: 200 });
        const text = str(args, "text", { max: MAX_MAIL });
        return {
          toolId: "email",
          action: name,
          risk: "act",
          target: to,
          amountWei: 0n,
          summary: `email ${to} about ${quote(subject, 60)}`,
          statement: async () => `Send a mail\nTo: ${to}\nSubject: ${subject}\n\n${text}`,
          run: async () => {
            const sent = await this.mail!.send({ to, subject, text });
            return { result: `mailed ${to} (${sent.messageId})` };
          },
        };
      }
      case "list_email": {
        need("email");
        const raw = args.limit === undefined || args.limit === null || args.limit === "" ? 10 : Number(args.limit);
        if (!Number.isInteger(raw) || raw < 1 || raw > 20)
          throw new ToolInputError("limit must be a whole number from 1 to 20");
        return {
          toolId: "email",
          action: name,
          risk: "read",
          target: this.handle("email")!,
          amountWei: 0n,
          summary: "look at my inbox",
          outsideWords: true,
          run: async () => {
            const list = await this.mail!.list({ limit: raw });
            if (list.length === 0) return { result: "the inbox is empty" };
            return { result: list.map((m) => `[${m.id}] ${m.date} from ${m.from}: ${m.subject}`).join("\n") };
          },
        };
      }
      case "read_email": {
        need("email");
        const id = str(args, "id", { max: 200 });
        return {
          toolId: "email",
          action: name,
          risk: "read",
          target: this.handle("email")!,
          amountWei: 0n,
          summary: "read a mail in my inbox",
          outsideWords: true,
          run: async () => {
            const m = await this.mail!.read(id);
            return { result: `From: ${m.from}\nTo: ${m.to}\nDate: ${m.date}\nSubject: ${m.subject}\n\n${m.text}` };
          },
        };
      }
      case "wallet_balance": {
        need("crypto");
        return {
          toolId: "crypto",
          action: name,
          risk: "read",
          target: this.handle("crypto")!,
          amountWei: 0n,
          summary: "look at my wallet's balance",
          run: async () => ({
            result: `wallet ${this.wallet.address} holds ${formatWei(await this.wallet.balance())}`,
          }),
        };
      }
      case "send_payment": {
        need("crypto");
        const to = str(args, "to");
        if (!/^0x[0-9a-fA-F]{40}$/.test(to))
          throw new ToolInputError(`"${to}" is not a wallet address (0x and 40 hex digits)`);
        let wei: bigint;
        try {
          wei = parseAmount(str(args, "amount_eth"));
        } catch (err) {
          throw new ToolInputError(err instanceof Error ? err.message : String(err));
        }
        return {
          toolId: "crypto",
          action: name,
          risk: "money",
          target: to,
          amountWei: wei,
          summary: `pay ${formatWei(wei)} to ${to}`,
          statement: async () =>
            `Pay ${formatWei(wei)}\nTo: ${to}\nOn chain: ${await this.wallet.chainId().catch(() => "unknown (the chain could not be reached)")}`,
          run: async () => {
            const { hash, chainId } = await this.wallet.pay(to, wei);
            return {
              result: `paid ${formatWei(wei)} to ${to} (transaction ${hash})`,
              payment: { chainId, hash, from: this.wallet.address, to, wei },
            };
          },
        };
      }
      default:
        throw new ToolInputError(`there is no function ${JSON.stringify(name)}`);
    }
  }

  close(): void {
    this.mailClient?.close?.();
    this.log.debug("tools closed");
  }
}
