import { describe, expect, it } from "vitest";
import { providerSettingsFromEnv } from "./env.js";

const FAUCET = `0x${"ab".repeat(32)}`;

describe("providers chosen by the environment", () => {
  it("are local when nothing names another, with the local range and domain when given", () => {
    expect(providerSettingsFromEnv({})).toEqual({});
    expect(
      providerSettingsFromEnv({ SMS_NUMBER_RANGE: "+15550100000..+15550100009", EMAIL_DOMAIN: "agents.example" }),
    ).toEqual({
      smsRange: "+15550100000..+15550100009",
      emailDomain: "agents.example",
    });
  });

  it("buy numbers from Telnyx and make mailboxes at AgentMail when told to, at their public APIs by default", () => {
    const s = providerSettingsFromEnv({
      SMS_PROVIDER: "telnyx",
      SMS_API_KEY: "KEYsecret",
      EMAIL_PROVIDER: "AgentMail",
      AGENTMAIL_API_KEY: "am_secret",
      EMAIL_DOMAIN: "mail.example",
    });
    expect(s.telnyx).toEqual({ apiUrl: "https://api.telnyx.com", apiKey: "KEYsecret", countryCode: "US" });
    expect(s.agentmail).toEqual({ apiUrl: "https://api.agentmail.to", apiKey: "am_secret", domain: "mail.example" });
    expect(s.smsRange).toBeUndefined();
    expect(s.emailDomain).toBeUndefined();
    const stand = providerSettingsFromEnv({
      SMS_PROVIDER: "telnyx",
      SMS_API_KEY: "k",
      SMS_API_URL: "http://127.0.0.1:8125/",
      SMS_COUNTRY: "ca",
      SMS_MESSAGING_PROFILE_ID: "p1",
    });
    expect(stand.telnyx).toEqual({
      apiUrl: "http://127.0.0.1:8125",
      apiKey: "k",
      countryCode: "CA",
      messagingProfileId: "p1",
    });
  });

  it("put wallets on a chain with its faucet, which funds none by itself (a grant does)", () => {
    expect(
      providerSettingsFromEnv({
        CHAIN_RPC_URL: "http://127.0.0.1:8545",
        CHAIN_FAUCET_KEY: FAUCET,
      }).chain,
    ).toEqual({
      rpcUrl: "http://127.0.0.1:8545",
      faucetKey: FAUCET,
    });
  });

  it("name the variable that is missing or wrong, and never a secret's value", () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ SMS_PROVIDER: "twilio" }, /SMS_PROVIDER must be one of local, telnyx/],
      [{ SMS_PROVIDER: "telnyx" }, /SMS_API_KEY is required/],
      [{ SMS_PROVIDER: "telnyx", SMS_API_KEY: "k", SMS_COUNTRY: "USA" }, /SMS_COUNTRY/],
      [
        { SMS_PROVIDER: "telnyx", SMS_API_KEY: "k", SMS_API_URL: "api.telnyx.com" },
        /SMS_API_URL must be an http\(s\) URL/,
      ],
      [{ EMAIL_PROVIDER: "agentmail" }, /AGENTMAIL_API_KEY is required/],
      [{ EMAIL_PROVIDER: "gmail" }, /EMAIL_PROVIDER must be one of local, agentmail/],
      [{ CHAIN_RPC_URL: "http://127.0.0.1:8545" }, /CHAIN_FAUCET_KEY is required/],
      [
        { CHAIN_RPC_URL: "http://127.0.0.1:8545", CHAIN_FAUCET_KEY: "0xsecretkey" },
        /CHAIN_FAUCET_KEY must be 0x and 64 hex digits/,
      ],
      [
        { CHAIN_RPC_URL: "http://127.0.0.1:8545", CHAIN_FAUCET_KEY: FAUCET, CHAIN_FUND_WEI: "1000" },
        /CHAIN_FUND_WEI is no longer read/,
      ],
    ];
    for (const [env, message] of bad) {
      let err: Error | undefined;
      try {
        providerSettingsFromEnv(env);
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message, JSON.stringify(env)).toMatch(message);
      expect(err?.message).not.toContain("secretkey");
    }
  });
});
