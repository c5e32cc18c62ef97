import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { deriveInboxId } from "../inbox.js";
import type { TemplateContentJson } from "../template-content.js";

/** Someone with a local wallet and the XMTP inbox that wallet creates. */
export interface TestIdentity {
  account: PrivateKeyAccount;
  inboxId: string;
}

export function newIdentity(): TestIdentity {
  const account = privateKeyToAccount(generatePrivateKey());
  return { account, inboxId: deriveInboxId(account.address) };
}

/** A valid template content with a pool tool and a required user tool. */
export function sampleContent(over: Partial<TemplateContentJson> = {}): TemplateContentJson {
  return {
    agent_name: "Trip Planner",
    instructions: "You are a travel planning assistant.",
    model: { default: "gpt-oss-20b", allow_override: true },
    tools: [
      { id: "sms", name: "SMS", provisioning: "pool", description: "", prompt: "", required: false },
      { id: "personal-email", name: "Your email", provisioning: "user", description: "", prompt: "Your email?", required: true },
    ],
    description: "Plans group trips",
    category: "travel",
    tags: ["travel", "japan"],
    ...over,
  };
}
