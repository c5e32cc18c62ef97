// What is wrong with a curation request (policy.ts), as plain calls: every
// bad field named at once, each by its field, and nothing for a well-formed
// request. No database, no network.
import { describe, expect, it } from "vitest";
import { operatorActViolations, reportTemplateViolations, requestReviewViolations, TEXT_RULES } from "./policy.js";

const fields = (vs: { field: string }[]) => vs.map((v) => v.field);
const inbox = "a".repeat(64);
const template = "tmpl_0123456789abcdef";

describe("what is wrong with a curation request, every field at once", () => {
  it("names the operator, the template and the act's own text together, not the first only", () => {
    expect(fields(operatorActViolations({ operatorId: "o", templateId: "x" }, TEXT_RULES.delist("")))).toEqual([
      "operator_id",
      "template_id",
      "reason",
    ]);
    expect(fields(operatorActViolations({ operatorId: "o", templateId: "x" }, TEXT_RULES.relist("")))).toEqual([
      "operator_id",
      "template_id",
    ]);
    expect(fields(operatorActViolations({ operatorId: inbox, templateId: template }, TEXT_RULES.decline(" ")))).toEqual(
      ["note"],
    );
    expect(fields(reportTemplateViolations({ templateId: "x", reason: "" }))).toEqual(["template_id", "reason"]);
    expect(fields(requestReviewViolations({ templateId: "x", expectedVersion: 0n, message: "" }))).toEqual([
      "template_id",
      "expected_version",
      "message",
    ]);
  });

  it("finds nothing wrong with a well-formed request", () => {
    const req = { operatorId: inbox, templateId: template };
    expect(operatorActViolations(req, TEXT_RULES.delist("spam"))).toEqual([]);
    expect(operatorActViolations(req, TEXT_RULES.dismiss(""))).toEqual([]);
    expect(reportTemplateViolations({ templateId: template, reason: "spam" })).toEqual([]);
    expect(
      requestReviewViolations({ templateId: template, expectedVersion: 2_000_000_000n, message: "fixed" }),
    ).toEqual([]);
    expect(
      fields(requestReviewViolations({ templateId: template, expectedVersion: 2_000_000_001n, message: "m" })),
    ).toEqual(["expected_version"]);
  });
});
