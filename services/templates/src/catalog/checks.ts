// What TemplateService's requests must hold, refused with the field named
// (invalidArgument). Pure.
import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { invalidArgument } from "@convos-pool/kit/content";

/** A template id, a creator's inbox id and the version a change is based on: the kit's, which the gateway's REST face runs too. */
export { checkExpectedVersion, checkInboxId, checkTemplateId } from "@convos-pool/kit/content";

/** Release notes: display text beside a content change (docs/store.md); the kit's, which the web app checks too. */
export { checkReleaseNotes } from "@convos-pool/kit/content";

/** Public or private: the two a template may be set to. */
export function checkVisibility(v: Visibility): void {
  if (v !== Visibility.PUBLIC && v !== Visibility.PRIVATE) {
    throw invalidArgument("visibility", 'must be "public" or "private"');
  }
}

/** A rollback's target: a version number, 1 or more. */
export function checkTargetVersion(v: bigint): number {
  const target = Number(v);
  if (!Number.isInteger(target) || target < 1)
    throw invalidArgument("target_version", "must be a version number, 1 or more");
  return target;
}

/** A rollback goes back: its target is earlier than the version it is based on. */
export function checkRollsBack(target: number, base: number): void {
  if (target >= base)
    throw invalidArgument(
      "target_version",
      `must be an earlier version than ${base}, the one the rollback is based on`,
    );
}
