// What is wrong with a curation request (docs/store.md, "Curation"), the
// pure part: each RPC's fields checked together, every violation named at
// once with its field. service.ts refuses them with the kit's
// refuseViolations before it reads or writes anything.
import { requireString, violationsOf, type FieldViolationInfo } from "@convos-pool/kit/content";
import { checkInboxId, checkTemplateId } from "../catalog/checks.js";

/** The highest version a review may be asked of: the templates service's bound on expected_version. */
const MAX_VERSION = 2_000_000_000n;

/** Reasons, notes and messages: shown to people, so bounded and, when required, not blank. */
const text = (field: string, value: string, max: number, required: boolean) => () =>
  requireString(field, value.trim(), { min: required ? 1 : 0, max });

/** The text each operator's act carries, by act: a delisting's reason is required, a relisting's note is not. */
export const TEXT_RULES = {
  dismiss: (note: string) => text("note", note, 1_000, false),
  delist: (reason: string) => text("reason", reason, 1_000, true),
  relist: (note: string) => text("note", note, 1_000, false),
  decline: (note: string) => text("note", note, 1_000, true),
  none: () => () => undefined,
} as const;

/** An operator's act on a template: the operator's inbox id, the template id, and the act's own text. */
export function operatorActViolations(
  req: { operatorId: string; templateId: string },
  own: () => unknown,
): FieldViolationInfo[] {
  return violationsOf(
    () => checkInboxId(req.operatorId, "operator_id"),
    () => checkTemplateId(req.templateId),
    own,
  );
}

/** A report of a template (ReportTemplate): its id and a reason. */
export function reportTemplateViolations(req: { templateId: string; reason: string }): FieldViolationInfo[] {
  return violationsOf(() => checkTemplateId(req.templateId), text("reason", req.reason, 1_000, true));
}

/** A creator's request for a review (RequestReview): the template, the version reviewed, a message. */
export function requestReviewViolations(req: {
  templateId: string;
  expectedVersion: bigint;
  message: string;
}): FieldViolationInfo[] {
  const version: FieldViolationInfo[] =
    req.expectedVersion < 1n || req.expectedVersion > MAX_VERSION
      ? [
          {
            field: "expected_version",
            description: "is required: the version you ask operators to review (If-Match on REST)",
          },
        ]
      : [];
  const [id, message] = [
    violationsOf(() => checkTemplateId(req.templateId)),
    violationsOf(text("message", req.message, 2_000, true)),
  ];
  return [...id, ...version, ...message];
}
