// What a change to a template's content (UpdateTemplate, PatchTemplate)
// and every change checks first, the pure part: the template it names and
// the version it is based on (If-Match on REST), an update's content, a
// patch's fields and their release notes, every violation named at once
// with its field (the request message's paths). The templates service
// refuses with these before anything is read; the gateway's REST face runs
// them when its own reading of a request already refuses it (a visibility
// word it has no value for, an If-Match or a content it cannot read), so
// that both faces name the same fields (docs/rest.md, "One contract, every
// face"). A new template's check is the templates service's, its one reader.
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { TemplatePatch } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { INBOX_ID_PATTERN, TEMPLATE_ID_PATTERN } from "./contract.js";
import { invalidArgument, violationsOf, type FieldViolationInfo } from "./errors.js";
import {
  checkReleaseNotes,
  contentToJson,
  patchToJson,
  validateContent,
  validatePatch,
  type ModelJson,
} from "./template.js";

export function checkTemplateId(id: string, field = "template_id"): void {
  if (!TEMPLATE_ID_PATTERN.test(id))
    throw invalidArgument(field, 'must be a template id such as "tmpl_" followed by 16 letters or digits');
}

export function checkInboxId(id: string, field: string): void {
  if (!INBOX_ID_PATTERN.test(id))
    throw invalidArgument(field, "must be an XMTP inbox ID (64 lower-case hex characters)");
}

/** The highest version a template change may be based on. */
export const MAX_TEMPLATE_VERSION = 2_000_000_000n;

/** The version a change is based on (If-Match on REST), as a number. */
export function checkExpectedVersion(v: bigint): number {
  if (v < 1n || v > MAX_TEMPLATE_VERSION) {
    throw invalidArgument("expected_version", "is required: the version your change is based on (If-Match on REST)");
  }
  return Number(v);
}

/** The template changed and the version the change is based on (If-Match on REST): every change's. */
export function changeViolations(req: { templateId: string; expectedVersion: bigint }): FieldViolationInfo[] {
  return violationsOf(
    () => checkTemplateId(req.templateId),
    () => checkExpectedVersion(req.expectedVersion),
  );
}

/** A change's body (`content` or `patch`), required and read by `read`, beside its release notes, template and version. */
function bodyChangeViolations(
  req: { templateId: string; expectedVersion: bigint; releaseNotes: string },
  field: "content" | "patch",
  read: (() => void) | undefined,
): FieldViolationInfo[] {
  return [
    ...changeViolations(req),
    ...violationsOf(
      () => {
        if (!read) throw invalidArgument(field, "is required");
        read();
      },
      () => checkReleaseNotes(req.releaseNotes),
    ),
  ];
}

/** A full update (UpdateTemplate): its content, release notes, template and version. */
export function updateViolations(req: {
  templateId: string;
  expectedVersion: bigint;
  content?: TemplateContent | undefined;
  releaseNotes: string;
}): FieldViolationInfo[] {
  const { content } = req;
  return bodyChangeViolations(req, "content", content && (() => validateContent(contentToJson(content))));
}

/** A patch (PatchTemplate): the fields it sets, release notes, template and version. */
export function patchViolations(req: {
  templateId: string;
  expectedVersion: bigint;
  patch?: TemplatePatch | undefined;
  releaseNotes: string;
}): FieldViolationInfo[] {
  const { patch } = req;
  return bodyChangeViolations(req, "patch", patch && (() => validatePatch(patchToJson(patch))));
}

/**
 * A template's model must be one the pool serves (docs/templates.md,
 * "Models"). `kept` is the model the template already had: a change that
 * keeps it passes even after operators took it off the list, so that
 * narrowing the list never locks a creator out of editing. No model (a
 * template on a base) is the base's, checked there.
 */
export function checkServedModel(
  field: string,
  model: ModelJson | undefined,
  served: readonly string[],
  kept?: string,
): void {
  if (!model || served.includes(model.default) || model.default === kept) return;
  throw invalidArgument(
    `${field}.default`,
    `"${model.default.slice(0, 80)}" is not a model this pool serves: one of ${served.map((m) => `"${m}"`).join(", ")}`,
  );
}

/** A new template (CreateTemplate): its creator, its content and the model it asks for, among those `served`. */
export function createViolations(
  req: { creatorId: string; content?: TemplateContent | undefined },
  served: readonly string[],
): FieldViolationInfo[] {
  const content = req.content && contentToJson(req.content);
  const own = violationsOf(
    () => checkInboxId(req.creatorId, "creator_id"),
    () => {
      if (!content) throw invalidArgument("content", "is required");
      validateContent(content);
    },
  );
  // A model already refused for its form is named once, not again as one the pool does not serve.
  if (!content || own.some((v) => v.field.startsWith("content.model"))) return own;
  return [...own, ...violationsOf(() => checkServedModel("content.model", content.model, served))];
}
