// What every change to a template checks first, the pure part: the template
// it names and the version it is based on (If-Match on REST), every
// violation named at once with its field (the request message's paths). The
// templates service refuses with these before anything is read (its
// template/policy.ts builds each RPC's check on them); the gateway's REST
// face runs changeViolations when its own reading of a body already refuses
// it (a visibility word it has no value for), so that both faces name the
// same fields (docs/rest.md, "One contract, every face"). A new template's,
// an update's and a patch's own checks are the templates service's, their
// one reader.
import { INBOX_ID_PATTERN, TEMPLATE_ID_PATTERN } from "./contract.js";
import { invalidArgument, violationsOf, type FieldViolationInfo } from "./errors.js";

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
