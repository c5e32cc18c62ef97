// What is wrong with a creator's review of a lesson of the pattern pool
// (ReviewPattern), the pure part, every violation named at once with its
// field (docs/patterns.md). The lineage service refuses with these before
// anything is read; the gateway's REST face runs the same ones when it
// already refuses a decision it has no word for, so that both faces name
// the same fields.
import { PatternDecision } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import { invalidArgument, violationsOf, type FieldViolationInfo } from "./errors.js";
import { checkTemplateId } from "./template-request.js";

/** A lesson's id: `pat_` and 16 letters or digits. */
export const PATTERN_ID_PATTERN = /^pat_[A-Za-z0-9]{16}$/;

export function checkPatternId(patternId: string): void {
  if (!PATTERN_ID_PATTERN.test(patternId))
    throw invalidArgument("pattern_id", 'must be a pattern id such as "pat_" followed by 16 letters or digits');
}

/** What is wrong with a creator's review of a lesson (ReviewPattern), every field at once. */
export function reviewPatternViolations(req: {
  templateId: string;
  patternId: string;
  decision: PatternDecision;
}): FieldViolationInfo[] {
  return violationsOf(
    () => checkTemplateId(req.templateId),
    () => checkPatternId(req.patternId),
    () => {
      if (req.decision !== PatternDecision.APPROVED && req.decision !== PatternDecision.REJECTED)
        throw invalidArgument("decision", "must be PATTERN_DECISION_APPROVED or PATTERN_DECISION_REJECTED");
    },
  );
}
