// What TemplateService's requests must hold: pure checks, no database, no
// server. Each refusal names its field as the REST and gRPC errors do.
import { describe, expect, it } from "vitest";
import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import {
  checkExpectedVersion,
  checkInboxId,
  checkReleaseNotes,
  checkRollsBack,
  checkTargetVersion,
  checkTemplateId,
  checkVisibility,
} from "./checks.js";

/** The fields `fn` refused. */
function refusedFields(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    return fieldViolations(err).map((v) => v.field);
  }
  return [];
}

describe("TemplateService's request checks", () => {
  it("takes a template id of tmpl_ and 16 letters or digits, naming the field it was in", () => {
    expect(refusedFields(() => checkTemplateId("tmpl_0123456789abcdef"))).toEqual([]);
    expect(refusedFields(() => checkTemplateId("tmpl_short"))).toEqual(["template_id"]);
    expect(refusedFields(() => checkTemplateId("nope", "base.template_id"))).toEqual(["base.template_id"]);
  });

  it("takes an inbox id of 64 lower-case hex characters", () => {
    expect(refusedFields(() => checkInboxId("a".repeat(64), "creator_id"))).toEqual([]);
    expect(refusedFields(() => checkInboxId("A".repeat(64), "creator_id"))).toEqual(["creator_id"]);
  });

  it("takes an expected version from 1 to two billion, as a number", () => {
    expect(checkExpectedVersion(7n)).toBe(7);
    expect(refusedFields(() => checkExpectedVersion(0n))).toEqual(["expected_version"]);
    expect(refusedFields(() => checkExpectedVersion(2_000_000_001n))).toEqual(["expected_version"]);
  });

  it("takes a rollback to an earlier version only, numbered 1 or more", () => {
    expect(checkTargetVersion(2n)).toBe(2);
    expect(refusedFields(() => checkTargetVersion(0n))).toEqual(["target_version"]);
    expect(refusedFields(() => checkRollsBack(2, 3))).toEqual([]);
    expect(refusedFields(() => checkRollsBack(3, 3))).toEqual(["target_version"]);
  });

  it("takes public or private and release notes up to 2,000 characters", () => {
    expect(refusedFields(() => checkVisibility(Visibility.PUBLIC))).toEqual([]);
    expect(refusedFields(() => checkVisibility(Visibility.UNSPECIFIED))).toEqual(["visibility"]);
    expect(checkReleaseNotes("")).toBe("");
    expect(refusedFields(() => checkReleaseNotes("x".repeat(2_001)))).toEqual(["release_notes"]);
  });
});
