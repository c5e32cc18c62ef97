// UpdateTemplate: a new template version as its creator signed it, with its
// bases' releases, passed on by the pool unchanged. The instance checks every
// layer itself, against the template and creator it was configured with
// (never the ones the update names) and each base against the layer above,
// so the pool cannot forge instructions; the signatures' check is its host's,
// made once per release for all its agents (kit verified-releases.ts). The
// release key (the template's version, then its bases') is the replay guard:
// only a newer one is taken.
//
// A batch (host/batch-updates.ts: one release for many agents of the host) also shares
// the rest of the chain's check: the content's validation, its hash and the
// resolved content, which depend on the release and on the template and
// creator expected alone. Each agent still compares its own template, creator
// and applied key; agents expecting another template or creator get a check
// of their own, and the same refusal as alone.

import { fromJson, toJson } from "@bufbuild/protobuf";
import { compareReleaseKeys, failedPrecondition, formatReleaseKey, invalidArgument } from "@convos-pool/kit/content";
import { verifyReleaseChain, type ReleaseVerifier } from "@convos-pool/kit/signing";
import type { InstanceServiceUpdateTemplateRequest } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import {
  SignedTemplateSchema,
  type SignedTemplate,
  type TemplateContent,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { checkToolsAllowed, toolSet } from "./configure.js";
import { appliedReleaseKey, type InstanceConfig, type InstanceCredentials } from "../state/settings.js";

/** What an update writes: the credentials, IDENTITY.md's text, and config.json (last). */
export interface TemplateUpdate {
  config: InstanceConfig;
  /** What it runs on: IDENTITY.md is rendered from it. */
  content: TemplateContent;
  credentials: InstanceCredentials;
}

type CheckedChain = Awaited<ReturnType<typeof verifyReleaseChain>>;

/**
 * Releases a batch decoded once, with the chain checks made of them so far,
 * by the template and creator expected. Keyed by the message object itself:
 * nothing else can present the same object, and the entry goes with it.
 */
const batchChecks = new WeakMap<
  SignedTemplate,
  { bases: readonly SignedTemplate[]; checks: Map<string, Promise<CheckedChain>> }
>();

/**
 * Lets every update of `template` with exactly these `bases` (the same
 * message objects, as one UpdateTemplates request holds them) share one chain check
 * per template and creator expected. A refusal is shared too: the same
 * release, checked against the same expectation, is refused the same way.
 */
export function shareReleaseChecks(template: SignedTemplate, bases: readonly SignedTemplate[]): void {
  batchChecks.set(template, { bases, checks: new Map() });
}

/** verifyReleaseChain, shared within a batch (shareReleaseChecks). */
export function checkReleaseChain(
  verifier: ReleaseVerifier,
  t: SignedTemplate,
  bases: readonly SignedTemplate[],
  expected: { templateId: string; creatorId: string },
): Promise<CheckedChain> {
  const batch = batchChecks.get(t);
  // A request built from the batch's holds its base messages in an array of its own.
  if (!batch || batch.bases.length !== bases.length || batch.bases.some((b, i) => b !== bases[i]))
    return verifyReleaseChain(verifier, t, bases, expected);
  const key = `${expected.templateId}\n${expected.creatorId}`;
  let check = batch.checks.get(key);
  if (!check) {
    check = verifyReleaseChain(verifier, t, bases, expected);
    batch.checks.set(key, check);
  }
  return check;
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
  const { content, key } = await checkReleaseChain(verifier, t, req.bases, {
    templateId: applied.templateId,
    creatorId: configured.creatorId,
  });
  const appliedKey = appliedReleaseKey(applied);
  if (compareReleaseKeys(key, appliedKey) <= 0) {
    throw failedPrecondition(
      `template version ${formatReleaseKey(key)} is not newer than the applied version ${formatReleaseKey(appliedKey)}`,
    );
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
