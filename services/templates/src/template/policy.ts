// What is wrong with a new template (CreateTemplate) or a change to an
// existing one (service.ts, through mutate()), the pure part: each RPC's own
// fields and the template and version it is based on, checked together, every
// violation named at once with its field, before anything is read. An
// update's and a patch's, with the template and version every change
// checks, are the kit's (kit/content/template-request.ts), which the
// gateway's REST face runs too; a new template's and a rollback's are here,
// this service their one reader. Not here: the signature, the
// version's freshness (a conflict) and the rules that need a row (a
// change's model served beside the one it keeps, the base, a wallet's
// removal).
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  changeViolations,
  contentToJson,
  invalidArgument,
  refuseViolations,
  validateContent,
  violationsOf,
  type FieldViolationInfo,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import {
  checkExpectedVersion,
  checkInboxId,
  checkReleaseNotes,
  checkRollsBack,
  checkTargetVersion,
} from "../catalog/checks.js";
import { checkServedModel } from "../models/policy.js";

export { changeViolations, patchViolations, updateViolations } from "@convos-pool/kit/content";

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

/** A new template's content as JSON, once its request holds: every bad field refused at once otherwise. */
export function newTemplateContent(
  req: { creatorId: string; content?: TemplateContent | undefined },
  served: readonly string[],
): TemplateContentJson {
  refuseViolations(createViolations(req, served));
  if (!req.content) throw invalidArgument("content", "is required"); // named above: only the type learns it here
  return contentToJson(req.content);
}

/** A rollback (RollbackTemplate): its target, earlier than the base once both are versions, release notes, template and version. */
export function rollbackViolations(req: {
  templateId: string;
  expectedVersion: bigint;
  targetVersion: bigint;
  releaseNotes: string;
}): FieldViolationInfo[] {
  const change = changeViolations(req);
  const own = violationsOf(
    () => checkRollsBack(checkTargetVersion(req.targetVersion), checkExpectedVersion(req.expectedVersion)),
    () => checkReleaseNotes(req.releaseNotes),
  );
  // The base's bound is changeViolations's to name: the rollback's own check names only the target.
  return [...own.filter((v) => v.field !== "expected_version"), ...change];
}
