// The criticality table and the admission's settings from the environment:
// pure, nothing stands in.
import { describe, expect, it } from "vitest";
import { parseAdmission, SERVER_ADMISSION } from "./config.js";
import { CRITICALITY_TABLE, criticalityOf } from "./criticality.js";

describe("criticalityOf", () => {
  it("puts an owner's approval, a sign-in, a release and an agent's turn before the rest", () => {
    for (const [service, method] of [
      ["convos.pool.v1.ApprovalService", "AnswerApproval"],
      ["convos.pool.v1.SessionService", "CreateSession"],
      ["convos.pool.v1.SessionService", "CollectConvosSignIn"],
      ["convos.pool.v1.InstanceService", "Release"],
      ["convos.pool.v1.ClaimService", "RemoveAgent"],
      ["convos.pool.v1.PaymentSignerService", "SignPayment"],
    ])
      expect(criticalityOf(service!, method!)).toBe("critical");
  });

  it("sheds a store listing and a dashboard refresh first, and leaves a claim between", () => {
    expect(criticalityOf("convos.pool.v1.TemplateService", "BrowseStore")).toBe("sheddable");
    expect(criticalityOf("convos.pool.v1.LineageService", "GetTemplateDashboard")).toBe("sheddable");
    expect(criticalityOf("convos.pool.v1.ClaimService", "Claim")).toBe("default");
  });

  it("lets a caller lower its call's criticality by the header, never raise it", () => {
    expect(criticalityOf("convos.pool.v1.ClaimService", "Claim", "sheddable")).toBe("sheddable");
    expect(criticalityOf("convos.pool.v1.ClaimService", "Claim", " Sheddable ")).toBe("sheddable");
    expect(criticalityOf("convos.pool.v1.TemplateService", "BrowseStore", "critical")).toBe("sheddable");
    expect(criticalityOf("convos.pool.v1.ClaimService", "Claim", "urgent")).toBe("default");
  });

  it("never queues nor refuses health and reflection", () => {
    expect(criticalityOf("grpc.health.v1.Health", "Check", "sheddable")).toBe("exempt");
    expect(criticalityOf("grpc.reflection.v1.ServerReflection", "ServerReflectionInfo")).toBe("exempt");
  });

  it("names only methods written as Service/Method", () => {
    for (const key of Object.keys(CRITICALITY_TABLE)) expect(key).toMatch(/^[A-Z][A-Za-z]+Service\/[A-Z][A-Za-z]+$/);
  });
});

describe("parseAdmission", () => {
  it("is on with the kit's defaults when empty, off when told", () => {
    expect(parseAdmission("")).toEqual({ ...SERVER_ADMISSION, limit: SERVER_ADMISSION.limit });
    expect(parseAdmission(" off ")).toBe(false);
  });

  it("takes the limit's bounds and the longest wait", () => {
    expect(parseAdmission("min=4, max=50,initial=8,wait-ms=200")).toMatchObject({
      limit: { min: 4, max: 50, initial: 8 },
      maxWaitMs: 200,
    });
  });

  it("names the entry that is wrong", () => {
    expect(() => parseAdmission("min=0")).toThrow(/"min=0"/);
    expect(() => parseAdmission("floor=3")).toThrow(/name one of min, max, initial, wait-ms/);
    expect(() => parseAdmission("min=50,max=10")).toThrow(/min 50 is above max 10/);
  });
});
