// What an owner's clone signature binds the clone to, as the two agents check
// it (docs/signatures.md, "Clone with context"): the template it runs (its id
// and creator) and its model and user config. Pure: clone/summary.ts calls these
// once the signature itself is checked.
//
//   parent  refuses a signature for a clone of another template or creator
//           than its own: a clone runs its parent's template.
//   child   refuses the summary unless it runs the template and creator the
//           owner signed, with the model and user config the owner asked
//           for, the rest being what its parent carried (CarriedConfig,
//           from the parent itself, end to end).

import { cloneConfigHash } from "@convos-pool/kit/signing";
import { permissionDenied } from "@convos-pool/kit/content";
import type { CarriedConfig } from "@convos-pool/gen/convos/pool/v1/clone_summary_pb.js";
import { Provisioning } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { CloneAuthorization } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";

/** The template an agent runs: the id and creator of the release it verified at Configure. */
export interface RunningTemplate {
  templateId: string;
  creatorId: string;
}

/** The template the owner signed must be the one this agent runs; `who` says which agent, for the reason. */
export function checkSignedTemplate(auth: CloneAuthorization, running: RunningTemplate, who: string): void {
  if (auth.templateId !== running.templateId) {
    throw permissionDenied(
      `authorization.template_id: the owner signed a clone of template ${auth.templateId || "(none)"}; ${who} runs template ${running.templateId}`,
    );
  }
  if (auth.templateCreatorId !== running.creatorId) {
    throw permissionDenied(
      `authorization.template_creator_id: the owner signed a clone of a template by ${auth.templateCreatorId || "(none)"}; ${who} runs one by ${running.creatorId}`,
    );
  }
}

/** A clone's configuration: the model it runs on and its user config, by tool id. */
export interface CloneConfig {
  model: string;
  userConfig: Record<string, string>;
}

/**
 * What a clone runs with, by the claims service's rule (claims
 * claim-request.ts, planClaim): the model asked for, else the parent's when
 * its owner chose it and the release still allows a choice, else the
 * release's default; the user config of the tools the release asks for, the
 * parent's overridden by those asked for, trimmed, empty ones left out.
 */
export function expectedCloneConfig(content: TemplateContent, carried: CloneConfig, asked: CloneConfig): CloneConfig {
  const dflt = content.model?.default ?? "";
  const model = asked.model || (carried.model && content.model?.allowOverride ? carried.model : dflt);
  const userTools = content.tools.filter((t) => t.provisioning === Provisioning.USER).map((t) => t.id);
  const asks = new Set(userTools);
  const merged: Record<string, string> = {
    ...Object.fromEntries(Object.entries(carried.userConfig).filter(([k]) => asks.has(k))),
    ...asked.userConfig,
  };
  const userConfig: Record<string, string> = {};
  for (const id of userTools) {
    const value = (merged[id] ?? "").trim();
    if (value) userConfig[id] = value;
  }
  return { model, userConfig };
}

/**
 * The child's check of its own configuration against the owner's signed
 * clone and what its parent carried. Names the field that differs, never a
 * value of the user config (it may be private).
 */
export function checkCloneConfig(
  auth: CloneAuthorization,
  carried: CarriedConfig | undefined,
  content: TemplateContent,
  actual: CloneConfig,
): void {
  const expected = expectedCloneConfig(
    content,
    { model: carried?.model ?? "", userConfig: carried?.userConfig ?? {} },
    { model: auth.model, userConfig: auth.userConfig },
  );
  if (cloneConfigHash(expected.model, expected.userConfig) === cloneConfigHash(actual.model, actual.userConfig)) return;
  if (expected.model !== actual.model) {
    throw permissionDenied(
      `authorization.model: this agent runs on ${actual.model}, not the ${expected.model} of the owner's signed clone`,
    );
  }
  const keys = new Set([...Object.keys(expected.userConfig), ...Object.keys(actual.userConfig)]);
  const differ = [...keys].filter((k) => expected.userConfig[k] !== actual.userConfig[k]).sort();
  throw permissionDenied(
    `authorization.user_config: this agent's values for ${differ.join(", ")} are not those of the owner's signed clone`,
  );
}
