import type { AgentMailOptions } from "./agentmail.js";
import type { ChainWalletOptions } from "./chain-wallet.js";
import type { TelnyxNumberOptions } from "./telnyx-numbers.js";

/** Which provider makes each pool tool, and its settings: local by default, production ones when the environment names them. */
export interface ProviderSettings {
  /** Local phone numbers: this range (default DEFAULT_SMS_RANGE). */
  smsRange?: string | undefined;
  /** Local mailboxes: this domain (default DEFAULT_EMAIL_DOMAIN). */
  emailDomain?: string | undefined;
  /** Phone numbers bought from Telnyx instead of the local range. */
  telnyx?: TelnyxNumberOptions | undefined;
  /** Mailboxes made at AgentMail instead of locally. */
  agentmail?: AgentMailOptions | undefined;
  /** Wallets on this chain (funded from its faucet only under a grant); absent: generated keys, off any chain. */
  chain?: ChainWalletOptions | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The claims service's providers from its environment (docs/tools.md,
 * "Production providers"). Throws an Error naming the variable that is
 * missing or wrong; never echoes a secret's value.
 */
export function providerSettingsFromEnv(env: Env): ProviderSettings {
  const get = (name: string) => env[name]?.trim() || undefined;
  const need = (name: string, what: string) => {
    const v = get(name);
    if (!v) throw new Error(`${name} is required: ${what}`);
    return v;
  };
  const choice = (name: string, allowed: readonly string[]) => {
    const v = (get(name) ?? "local").toLowerCase();
    if (!allowed.includes(v)) throw new Error(`${name} must be one of ${allowed.join(", ")}`);
    return v;
  };
  const url = (name: string, fallback: string) => {
    const v = get(name) ?? fallback;
    if (!/^https?:\/\/[^\s/]+/.test(v)) throw new Error(`${name} must be an http(s) URL`);
    return v.replace(/\/+$/, "");
  };

  const settings: ProviderSettings = {};
  if (choice("SMS_PROVIDER", ["local", "telnyx"]) === "telnyx") {
    const telnyx = {
      apiUrl: url("SMS_API_URL", "https://api.telnyx.com"),
      apiKey: need("SMS_API_KEY", "the Telnyx API key that buys and releases numbers"),
      countryCode: (get("SMS_COUNTRY") ?? "US").toUpperCase(),
      ...(get("SMS_MESSAGING_PROFILE_ID") ? { messagingProfileId: get("SMS_MESSAGING_PROFILE_ID") } : {}),
    };
    if (!/^[A-Z]{2}$/.test(telnyx.countryCode))
      throw new Error("SMS_COUNTRY must be an ISO 3166-1 alpha-2 code, like US");
    settings.telnyx = telnyx;
  } else if (get("SMS_NUMBER_RANGE")) {
    settings.smsRange = get("SMS_NUMBER_RANGE");
  }

  if (choice("EMAIL_PROVIDER", ["local", "agentmail"]) === "agentmail") {
    settings.agentmail = {
      apiUrl: url("AGENTMAIL_API_URL", "https://api.agentmail.to"),
      apiKey: need("AGENTMAIL_API_KEY", "the AgentMail organization API key that makes and deletes inboxes"),
      ...(get("EMAIL_DOMAIN") ? { domain: get("EMAIL_DOMAIN") } : {}),
    };
  } else if (get("EMAIL_DOMAIN")) {
    settings.emailDomain = get("EMAIL_DOMAIN");
  }

  // Funding every new wallet is gone: an operator's grant says how much a template's wallets get (docs/limits.md).
  if (get("CHAIN_FUND_WEI"))
    throw new Error(
      "CHAIN_FUND_WEI is no longer read: new wallets are funded only under an operator's grant (SetToolGrant, docs/limits.md); remove it",
    );
  const rpcUrl = get("CHAIN_RPC_URL");
  if (rpcUrl) {
    const faucetKey = need("CHAIN_FAUCET_KEY", "the private key of the account that funds agents' wallets");
    if (!/^0x[0-9a-fA-F]{64}$/.test(faucetKey)) throw new Error("CHAIN_FAUCET_KEY must be 0x and 64 hex digits");
    settings.chain = { rpcUrl: url("CHAIN_RPC_URL", rpcUrl), faucetKey: faucetKey as `0x${string}` };
  }
  return settings;
}
