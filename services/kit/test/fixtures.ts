// TEST FIXTURES, NOT PRODUCT CODE (@convos-pool/kit/testing): people with
// their own wallets, valid template content, templates signed and published
// by their creators, and the code a call ended with. Here rather than in the
// base harness because they sign with the kit, whose own tests use them.
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { ConnectError, Code, type Client } from "@connectrpc/connect";
import { Visibility, type Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { SoulJson } from "../src/content/soul.js";
import {
  contentFromJson,
  contentToJson,
  jsonHash,
  type TemplateContentJson,
  type ToolJson,
} from "../src/content/template.js";
import { deriveInboxId } from "../src/signing/inbox.js";
import { signOperation } from "../src/signing/sign.js";

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
      {
        id: "personal-email",
        name: "Your email",
        provisioning: "user",
        description: "",
        prompt: "Your email?",
        required: true,
      },
    ],
    description: "Plans group trips",
    category: "travel",
    tags: ["travel", "japan"],
    ...over,
  };
}

/** A SOUL with every field set (docs/templates.md, "SOUL", renders it): Marlow, a ship's navigator. */
export function sampleSoul(): SoulJson {
  return {
    identity: { name: "Marlow", role: "Ship's navigator", description: "Charts routes for the crew." },
    philosophy: { principles: ["Check the tide twice."], values: ["Safety over speed"] },
    capabilities: { domains: ["sailing"], skills: ["plotting courses"], limitations: ["cannot see the weather"] },
    behavior: { response_style: "minimal", progressive_disclosure: true, max_output_tokens: 300 },
    constraints: {
      restricted_topics: ["legal advice"],
      escalation_rules: [
        { condition: "someone is in danger", action: "escalate_to_human" },
        { condition: "a fee is due", action: "request_approval" },
        { condition: "asked to smuggle", action: "block" },
      ],
    },
  };
}

/** A tool declaration in its JSON form, with the defaults of a minimal one. */
export function tool(id: string, provisioning: "pool" | "user", extra: Partial<ToolJson> = {}): ToolJson {
  return {
    id,
    name: id,
    provisioning,
    description: "",
    prompt: provisioning === "user" ? `Your ${id}?` : "",
    required: false,
    ...extra,
  };
}

/** Every pool tool and two user tools, one of them required. */
export const ALL_TOOLS: ToolJson[] = [
  tool("sms", "pool"),
  tool("crypto", "pool"),
  tool("email", "pool"),
  tool("personal-email", "user", { prompt: "Your email for booking confirmations?", required: true }),
  tool("nickname", "user"),
];

/** The nonce of each template's signed create made here, by template id (creationNonceOf). */
const creationNonces = new Map<string, string>();

/**
 * The creation nonce of a template signedTemplate made, which a release a
 * test signs itself (signUpdateRelease) must carry to show who created it.
 */
export function creationNonceOf(templateId: string): string {
  const nonce = creationNonces.get(templateId);
  if (!nonce) throw new Error(`template ${templateId} was not created by signedTemplate here`);
  return nonce;
}

/** Creates a template signed by its creator, and publishes it unless asked for a private one. */
export async function signedTemplate(
  client: Client<typeof TemplateService>,
  creator: TestIdentity,
  content: TemplateContentJson,
  visibility: "public" | "private" = "public",
): Promise<Template> {
  const body = contentFromJson(content);
  const signature = await signOperation(creator.account, "CreateTemplate", {
    inboxId: creator.inboxId,
    contentHash: jsonHash(contentToJson(body)),
  });
  const t = (await client.createTemplate({ creatorId: creator.inboxId, content: body, signature })).template!;
  creationNonces.set(t.id, signature.nonce);
  return visibility === "private" ? t : signedPublish(client, creator, t);
}

/** The creator's signed publishing of the template at `template.version`; the template as it is now. */
export async function signedPublish(
  client: Client<typeof TemplateService>,
  creator: TestIdentity,
  template: Pick<Template, "id" | "version">,
): Promise<Template> {
  const signature = await signOperation(creator.account, "SetTemplateVisibility", {
    inboxId: creator.inboxId,
    templateId: template.id,
    version: template.version,
    visibility: "public",
  });
  return (
    await client.setTemplateVisibility({
      templateId: template.id,
      expectedVersion: template.version,
      visibility: Visibility.PUBLIC,
      signature,
    })
  ).template!;
}

/** The creator's signed full update of `template` to new instructions; the template as it is now. */
export async function signedUpdate(
  client: Client<typeof TemplateService>,
  creator: TestIdentity,
  template: Template,
  instructions: string,
): Promise<Template> {
  return signedContentUpdate(client, creator, template, { ...contentToJson(template.content!), instructions });
}

/** The creator's signed full update of the template at `template.version` to `content`; the template as it is now. */
export async function signedContentUpdate(
  client: Client<typeof TemplateService>,
  creator: TestIdentity,
  template: Pick<Template, "id" | "version">,
  content: TemplateContentJson,
): Promise<Template> {
  const signature = await signOperation(creator.account, "UpdateTemplate", {
    inboxId: creator.inboxId,
    templateId: template.id,
    version: template.version,
    contentHash: jsonHash(content),
  });
  return (
    await client.updateTemplate({
      templateId: template.id,
      expectedVersion: template.version,
      content: contentFromJson(content),
      signature,
    })
  ).template!;
}

/** The Connect code a call ended with ("ok" when it succeeded), to compare in one assertion. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return Code[ConnectError.from(err).code];
  }
}

/** The error a call was refused with; a call that succeeds fails the test. */
export async function refusal(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the call should have been refused");
}
