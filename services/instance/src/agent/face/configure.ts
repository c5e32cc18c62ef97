// Configure: the template release the claim brings, checked before the
// instance accepts it (docs/instance.md, "What Configure checks"). The pool
// passes on the release exactly as its creator signed it; the instance
// verifies that signature against the XMTP network, and that the model, the
// pool tools and the user config are ones that release allows. So no
// instruction an agent runs on comes from the pool alone.

import { toJson } from "@bufbuild/protobuf";
import { invalidArgument, permissionDenied, requireString } from "@convos-pool/kit/content";
import { verifyReleaseChain, type ReleaseVerifier } from "@convos-pool/kit/signing";
import type {
  ConfigureRequest,
  ParentInstance,
  ToolCredential,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { OwnerProofSchema } from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import { Provisioning } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { SignedTemplateSchema, type TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { InstanceConfig, InstanceCredentials, ParentRef } from "../state/settings.js";

/** What a Configure writes: credentials, IDENTITY.md's text, then config.json. */
export interface Configuration {
  config: InstanceConfig;
  /** What it runs on: IDENTITY.md is rendered from it. */
  content: TemplateContent;
  credentials: InstanceCredentials;
}

/**
 * The pool tools given must be ones the release declares as the pool's, and
 * the user config's keys tools it declares as the user's: anything else
 * would be the pool's choice, not the creator's.
 */
export function checkToolsAllowed(
  content: TemplateContent,
  tools: ToolCredential[],
  userConfig: Record<string, string> = {},
): void {
  const declared = (p: Provisioning) => new Set(content.tools.filter((t) => t.provisioning === p).map((t) => t.id));
  const pool = declared(Provisioning.POOL);
  tools.forEach((t, i) => {
    if (!pool.has(t.toolId))
      throw permissionDenied(`tools[${i}].tool_id: the template does not declare "${t.toolId}" as a pool tool`);
  });
  const user = declared(Provisioning.USER);
  for (const key of Object.keys(userConfig)) {
    if (!user.has(key)) throw permissionDenied(`user_config.${key}: the template asks for no value "${key}"`);
  }
}

/** The model the owner runs: the release's default, or another one only where the release allows it. */
export function checkModel(content: TemplateContent, model: string, overridden: boolean): string {
  const dflt = content.model?.default ?? "";
  if (!overridden) {
    if (model && model !== dflt)
      throw permissionDenied(
        `model: ${model} is not the template's default (${dflt}) and is not marked as the owner's choice`,
      );
    return dflt;
  }
  if (!content.model?.allowOverride)
    throw permissionDenied("model: the template does not allow choosing another model");
  return requireString("model", model, { max: 200 });
}

/** The pool's tools for a claim or an update: public handles for config.json, secrets for credentials.json. */
export function toolSet(tools: ToolCredential[]): { tools: InstanceConfig["tools"]; credentials: InstanceCredentials } {
  const credentials: InstanceCredentials = {};
  const handles: InstanceConfig["tools"] = [];
  tools.forEach((t, i) => {
    requireString(`tools[${i}].tool_id`, t.toolId, { max: 64 });
    if (credentials[t.toolId]) throw invalidArgument(`tools[${i}].tool_id`, `${t.toolId} is given twice`);
    credentials[t.toolId] = { ...t.secrets };
    handles.push({ toolId: t.toolId, handle: t.handle });
  });
  return { tools: handles, credentials };
}

/** A clone's parent as the pool names it; the child checks the summary's sender against it (clone/summary.ts). */
function checkParent(parent: ParentInstance, _ownerId: string): ParentRef {
  return {
    instanceId: requireString("parent.instance_id", parent.instanceId, { max: 128 }),
    inboxId: requireString("parent.inbox_id", parent.inboxId, { max: 128 }),
    walletIndex: parent.walletIndex,
  };
}

/** Checks a Configure request and returns what to write; throws before anything is written. */
export async function planConfigure(
  verifier: ReleaseVerifier,
  instanceId: string,
  req: ConfigureRequest,
): Promise<Configuration> {
  const t = req.template;
  if (!t) throw invalidArgument("template", "required: the template's release as its creator signed it");
  requireString("template.template_id", t.templateId, { max: 128 });
  // The creator's signature over this exact content, for this template (a
  // version-1 release: its id derives from the signature), by a wallet of
  // the creator's inbox on the network; and each base's, by the creator the
  // layer above names. The content is validated on the way, then resolved.
  const { content } = await verifyReleaseChain(verifier, t, req.bases, {
    templateId: t.templateId,
    creatorId: t.creatorId,
  });
  const ownerId = requireString("owner_id", req.ownerId, { max: 128 });
  const model = checkModel(content, req.model, req.modelOverridden);
  checkToolsAllowed(content, req.tools, req.userConfig);
  const { tools, credentials } = toolSet(req.tools);
  return {
    content,
    credentials,
    config: {
      instanceId,
      template: toJson(SignedTemplateSchema, t),
      bases: req.bases.map((b) => toJson(SignedTemplateSchema, b)),
      templateId: t.templateId,
      templateVersion: t.version.toString(),
      agentName: content.agentName,
      ownerId,
      model,
      modelOverridden: req.modelOverridden,
      tools,
      userConfig: { ...req.userConfig },
      ...(req.parent ? { parent: checkParent(req.parent, ownerId) } : {}),
      // Kept as given: members check it (profile.ts publishes it); the pool could only make it fail their check.
      ...(req.ownerProof?.proof.case
        ? { ownerProof: { ownerId, proof: toJson(OwnerProofSchema, req.ownerProof) } }
        : {}),
      configuredAt: new Date().toISOString(),
    },
  };
}
