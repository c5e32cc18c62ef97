// UpdateTemplate: a new template version as its creator signed it, with its
// bases' releases, passed on by the pool unchanged. The instance checks every
// layer itself, against the template and creator it was configured with
// (never the ones the update names) and each base against the layer above,
// so the pool cannot forge instructions; the signatures' check is its host's,
// made once per release for all its agents (kit verified-releases.ts). The
// release key (the template's version, then its bases') is the replay guard:
// only a newer one is taken.

import { fromJson, toJson } from "@bufbuild/protobuf";
import { compareReleaseKeys, failedPrecondition, formatReleaseKey, invalidArgument, verifyReleaseChain, type ReleaseVerifier } from "@convos-pool/kit";
import type { InstanceServiceUpdateTemplateRequest, ToolCredential } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { SignedTemplateSchema, type TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { checkToolsAllowed, toolSet } from "./configure.js";
import type { InstanceConfig, InstanceCredentials } from "./instance.js";

/** What an update writes: the credentials, IDENTITY.md's text, and config.json (last). */
export interface TemplateUpdate {
  config: InstanceConfig;
  /** What it runs on: IDENTITY.md is rendered from it. */
  content: TemplateContent;
  credentials: InstanceCredentials;
}

/** Checks an update against the applied config and returns what to write; throws before anything is written. */
export async function planTemplateUpdate(
  verifier: ReleaseVerifier,
  applied: InstanceConfig,
  req: InstanceServiceUpdateTemplateRequest,
): Promise<TemplateUpdate> {
  const t = req.template;
  if (!t) throw invalidArgument("template", "required");
  const configured = fromJson(SignedTemplateSchema, applied.template);
  // PERMISSION_DENIED for another template, another creator or a bad signature;
  // the release's content is validated on the way (INVALID_ARGUMENT).
  const { content, key } = await verifyReleaseChain(verifier, t, req.bases, { templateId: applied.templateId, creatorId: configured.creatorId });
  const appliedKey = appliedReleaseKey(applied);
  if (compareReleaseKeys(key, appliedKey) <= 0) {
    throw failedPrecondition(`template version ${formatReleaseKey(key)} is not newer than the applied version ${formatReleaseKey(appliedKey)}`);
  }
  // As at Configure: only pool tools the new version declares.
  checkToolsAllowed(content, req.tools);
  const { tools, credentials } = toolSet(req.tools);
  // The owner's choice at claim time stays; otherwise the model follows the template.
  const model = applied.modelOverridden ? applied.model : content.model?.default || applied.model;
  return {
    content,
    credentials,
    config: {
      ...applied,
      template: toJson(SignedTemplateSchema, t),
      bases: req.bases.map((b) => toJson(SignedTemplateSchema, b)),
      templateVersion: t.version.toString(),
      agentName: content.agentName,
      model,
      tools,
      updatedAt: new Date().toISOString(),
    },
  };
}

/** Where the release it runs stands: its template's version, then its bases'. */
export function appliedReleaseKey(config: InstanceConfig): bigint[] {
  return [BigInt(config.templateVersion), ...(config.bases ?? []).map((b) => fromJson(SignedTemplateSchema, b).version)];
}
