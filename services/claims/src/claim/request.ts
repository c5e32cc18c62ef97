/**
 * What a claim asks for, checked before anything is taken (docs/claims.md):
 * the request's fields, the template as the requester may see it, the user
 * config its tools ask for and the model it runs on. Pure: the claim flow
 * (flow.ts) reads the template and applies what these decide.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { ClaimRequest } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateStatus, Visibility, type Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { canonicalCarry } from "@convos-pool/kit/signing";
import {
  failedPrecondition,
  type FieldViolationInfo,
  fieldViolations,
  INBOX_ID_PATTERN,
  INSTANCE_ID_PATTERN,
  invalidArgument,
  invalidArguments,
  type ModelJson,
  notFound,
  POOL_CURATOR,
  TEMPLATE_ID_PATTERN,
  toolValueProblem,
  type ToolJson,
} from "@convos-pool/kit/content";
import type { FlowAgent } from "./sql.js";
import { describeRelease, type Release, type TemplateWithRelease } from "../templates/release.js";

/** A model name a requester may choose: letters, digits and . _ : / @ + -, a letter or digit first. */
export const MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;
/** Characters at most: the conversation invite, the model name, one user-config value, a clone's context prompt. */
export const MAX_INVITE = 16 * 1024;
export const MAX_MODEL = 200;
export const MAX_USER_VALUE = 2000;
export const MAX_CONTEXT_PROMPT = 4000;

/** The checked request. */
export interface ClaimInput {
  requester: string;
  templateId: string;
  invite: string;
  model: string;
  userConfig: Record<string, string>;
  /** A clone: the kinds that carry, canonical. */
  carry: string[];
  /** The requester confirmed a second agent of the template in the conversation (second-agent.ts). */
  confirmSecondAgent: boolean;
}

/** Field checks that need no template: required fields, formats, sizes. */
export function checkClaimRequest(req: ClaimRequest): ClaimInput {
  const v: FieldViolationInfo[] = [];
  const bad = (field: string, description: string) => v.push({ field, description });
  if (!req.requester) bad("requester", "is required: the XMTP inbox ID of who adds the agent");
  else if (!INBOX_ID_PATTERN.test(req.requester))
    bad("requester", "must be an XMTP inbox ID (64 lower-case hex characters)");
  if (!req.templateId) {
    bad(
      "template_id",
      req.cloneFrom
        ? "is required for a clone: the parent's template, which the owner signs (CloneAgent)"
        : "is required",
    );
  } else if (!TEMPLATE_ID_PATTERN.test(req.templateId))
    bad("template_id", 'must be a template id such as "tmpl_" followed by 16 letters or digits');
  if (!req.conversationInvite.trim())
    bad("conversation_invite", "is required: the Convos invite link (or slug) of the conversation");
  else if (req.conversationInvite.length > MAX_INVITE)
    bad("conversation_invite", `must be at most ${MAX_INVITE} characters`);
  if (req.model && (req.model.length > MAX_MODEL || !MODEL_PATTERN.test(req.model))) {
    bad("model", `must be a model name (letters, digits and . _ : / @ + -, at most ${MAX_MODEL} characters)`);
  }
  for (const [key, value] of Object.entries(req.userConfig)) {
    if (value.length > MAX_USER_VALUE) bad(`user_config.${key}`, `must be at most ${MAX_USER_VALUE} characters`);
  }
  let carry: string[] = [];
  if (!req.cloneFrom) {
    if (req.contextPrompt) bad("context_prompt", "is only for a clone (with clone_from)");
    if (req.ownerSignature) bad("owner_signature", "is only for a clone (with clone_from)");
    if (req.carry.length > 0) bad("carry", "is only for a clone (with clone_from)");
    if (req.templateCreatorId) bad("template_creator_id", "is only for a clone (with clone_from)");
  } else {
    if (req.confirmSecondAgent) bad("confirm_second_agent", "is only for a claim, not a clone (with clone_from)");
    if (!INSTANCE_ID_PATTERN.test(req.cloneFrom))
      bad("clone_from", 'must be an instance id such as "inst_" followed by 16 letters or digits');
    if (!req.templateCreatorId)
      bad("template_creator_id", "is required for a clone: the creator of its template, which the owner signs");
    else if (!INBOX_ID_PATTERN.test(req.templateCreatorId))
      bad("template_creator_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
    if (req.contextPrompt.length > MAX_CONTEXT_PROMPT)
      bad("context_prompt", `must be at most ${MAX_CONTEXT_PROMPT} characters`);
    if (!req.ownerSignature)
      bad("owner_signature", "is required for a clone: the parent's owner signs CloneAgent (docs/signatures.md)");
    if (req.signature) bad("signature", "a clone is signed with owner_signature (CloneAgent) alone");
    try {
      carry = canonicalCarry(req.carry);
    } catch (err) {
      const first = fieldViolationsOf(err)[0];
      if (first) v.push(first);
    }
  }
  if (v.length > 0) throw invalidArguments(v);
  return {
    requester: req.requester,
    templateId: req.templateId,
    invite: req.conversationInvite.trim(),
    model: req.model,
    userConfig: { ...req.userConfig },
    carry,
    confirmSecondAgent: req.confirmSecondAgent,
  };
}

/** The violations an error carries (canonicalCarry's INVALID_ARGUMENT). */
export function fieldViolationsOf(err: unknown): FieldViolationInfo[] {
  return fieldViolations(ConnectError.from(err)).map((f) => ({ field: f.field, description: f.description }));
}

/** Whether `who` may see the template: a public, active one anyone; any other its creator only. */
export function visibleTo(template: Template, who: string): boolean {
  return (
    (template.visibility === Visibility.PUBLIC && template.status === TemplateStatus.ACTIVE) ||
    template.creatorId === who
  );
}

/**
 * The template's user-provided tools against `user_config`: every required
 * one answered (the error carries the tool's prompt, so a client can ask it),
 * every value of its tool's kind (a mail address, a phone number: the kit's
 * toolValueProblem), no key that is not one of them. Returns the non-empty values.
 */
export function checkUserConfig(
  templateId: string,
  tools: ToolJson[],
  given: Record<string, string>,
): Record<string, string> {
  const userTools = tools.filter((t) => t.provisioning === "user");
  const known = new Map(userTools.map((t) => [t.id, t]));
  const v: FieldViolationInfo[] = [];
  for (const key of Object.keys(given).sort()) {
    if (known.has(key)) continue;
    const pool = tools.some((t) => t.id === key && t.provisioning === "pool");
    v.push({
      field: `user_config.${key}`,
      description: pool
        ? `"${key}" is provisioned by the pool, not by you: leave it out`
        : `template ${templateId} asks for no value "${key}"` +
          (userTools.length > 0
            ? ` (it asks for: ${userTools.map((t) => t.id).join(", ")})`
            : " (it asks for no values)"),
    });
  }
  const out: Record<string, string> = {};
  for (const t of userTools) {
    const value = (given[t.id] ?? "").trim();
    // Checked by its kind; the words never repeat the value (it may be personal, and errors reach logs).
    const problem = toolValueProblem(t, value);
    if (problem) v.push({ field: `user_config.${t.id}`, description: problem });
    else if (value) out[t.id] = value;
    else if (t.required) v.push({ field: `user_config.${t.id}`, description: `is required: ${t.prompt}` });
  }
  if (v.length > 0) throw invalidArguments(v);
  return out;
}

/**
 * The template's default model, or the requester's choice where the template
 * allows one and the pool serves it (`served`, POOL_MODELS as the templates
 * service reads it; empty when it did not say, as an older one does not).
 */
export function chooseModel(
  templateId: string,
  model: ModelJson,
  requested: string,
  served: readonly string[],
): { model: string; overridden: boolean } {
  if (!requested || requested === model.default) return { model: model.default, overridden: false };
  if (!model.allow_override) {
    throw invalidArgument(
      "model",
      `template ${templateId} runs on ${model.default} and does not allow choosing another model`,
    );
  }
  if (served.length > 0 && !served.includes(requested)) {
    throw invalidArgument("model", `is not a model this pool serves; it serves ${served.join(", ")}`);
  }
  return { model: requested, overridden: true };
}

/**
 * A clone's model: the one asked for (as for a fresh claim), else the
 * parent's when its owner chose it, the newest release still allows a
 * choice and the pool still serves it, else the release's default.
 */
export function carriedModel(
  templateId: string,
  model: ModelJson,
  parent: Pick<FlowAgent, "model" | "modelOverridden">,
  requested: string,
  served: readonly string[],
): { model: string; overridden: boolean } {
  if (requested) return chooseModel(templateId, model, requested, served);
  const stillServed = served.length === 0 || (parent.model !== null && served.includes(parent.model));
  if (parent.modelOverridden && parent.model && model.allow_override && stillServed)
    return { model: parent.model, overridden: true };
  return { model: model.default, overridden: false };
}

/** A clone's user config: the parent's values the newest release still asks for, overridden by those given. */
export function carriedUserConfig(
  tools: ToolJson[],
  parent: Record<string, string>,
  given: Record<string, string>,
): Record<string, string> {
  const asked = new Set(tools.filter((t) => t.provisioning === "user").map((t) => t.id));
  const carried = Object.fromEntries(Object.entries(parent).filter(([k]) => asked.has(k)));
  return { ...carried, ...given };
}

/** What a claim will configure its agent with, once the template allowed it. */
export interface ClaimPlan {
  /** The release it runs, resolved with its bases. */
  release: Release;
  userConfig: Record<string, string>;
  model: string;
  /** The model is the requester's (or the parent's) choice, not the template's default. */
  overridden: boolean;
  /** The pool tools to provision for it. */
  poolTools: ToolJson[];
}

/**
 * The template read for a claim, against its requester and request: one it
 * may see (a private template of someone else is NOT_FOUND, exactly as a
 * missing one: its id is its creator's secret), not archived, not delisted
 * (agents already added keep working; its creator still may add one, to fix
 * it), with content; the user config its tools ask for and the model, a
 * clone's carried from its parent; every pool tool one this pool provides.
 */
export function planClaim(
  templateId: string,
  got: TemplateWithRelease,
  input: ClaimInput,
  parent: Pick<FlowAgent, "model" | "modelOverridden" | "userConfig"> | undefined,
  canProvide: (toolId: string) => boolean,
): ClaimPlan {
  const { template, release, bases } = got;
  if (!visibleTo(template, input.requester)) throw notFound(`template ${templateId}`);
  if (template.status === TemplateStatus.ARCHIVED) {
    throw failedPrecondition(`template ${templateId} is archived: it cannot be added to conversations`);
  }
  if (template.delisting && template.creatorId !== input.requester) {
    // Held by the pool itself at publish, a look-alike of a popular template (docs/store.md).
    const by =
      template.delisting.operatorId === POOL_CURATOR ? "held by the pool" : "delisted from the store by its operators";
    throw failedPrecondition(
      `template ${templateId} was ${by} (${template.delisting.reason}): it cannot be added to conversations`,
    );
  }
  // What the agent will run on: the signed release with its bases, not the row around it.
  if (![release, ...bases].every((l) => l.content))
    throw new ConnectError(`template ${templateId} came without content`, Code.Internal);
  const described = describeRelease(release, bases);
  const { content, model: contentModel } = described;
  const userConfig = checkUserConfig(
    templateId,
    content.tools,
    parent ? carriedUserConfig(content.tools, parent.userConfig, input.userConfig) : input.userConfig,
  );
  const served = got.servedModels ?? [];
  const { model, overridden } = parent
    ? carriedModel(templateId, contentModel, parent, input.model, served)
    : chooseModel(templateId, contentModel, input.model, served);
  const poolTools = content.tools.filter((t) => t.provisioning === "pool");
  for (const t of poolTools) {
    if (!canProvide(t.id))
      throw failedPrecondition(`template ${templateId} needs tool "${t.id}", which this pool cannot provision`);
  }
  return { release: described, userConfig, model, overridden, poolTools };
}
