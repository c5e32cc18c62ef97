// What is wrong with a new template (CreateTemplate) or a change to an
// existing one (service.ts, through mutate()), the pure part: each RPC's own
// fields and the template and version it is based on, checked together, every
// violation named at once with its field, before anything is read. An
// update's, a patch's and a new template's, with the template and version
// every change checks, are the kit's (kit/content/template-request.ts),
// which the gateway's REST face runs too; a rollback's is here, this
// service its one reader. Not here: the signature, the
// version's freshness (a conflict) and the rules that need a row (a
// change's model served beside the one it keeps, the base, a wallet's
// removal).
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  changeViolations,
  contentToJson,
  createViolations,
  invalidArgument,
  refuseViolations,
  violationsOf,
  type FieldViolationInfo,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { checkExpectedVersion, checkReleaseNotes, checkRollsBack, checkTargetVersion } from "../catalog/checks.js";

export { changeViolations, createViolations, patchViolations, updateViolations } from "@convos-pool/kit/content";

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
