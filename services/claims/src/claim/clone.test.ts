// A clone's template check before anything is taken (clone.ts): pure, in memory.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { CloneAuthorizationSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { checkCloneTemplate, type Clone } from "./clone.js";

const CREATOR = "c".repeat(64);
const OTHER = "d".repeat(64);
const clone = {
  auth: create(CloneAuthorizationSchema, { templateId: "tmpl_TRIP000000000000", templateCreatorId: CREATOR }),
} as Clone;

describe("checkCloneTemplate", () => {
  it("takes the parent's template when it is by the creator the owner signed", () => {
    expect(() => checkCloneTemplate(clone, { id: "tmpl_TRIP000000000000", creatorId: CREATOR })).not.toThrow();
  });

  it("refuses one by another creator, naming template_creator_id", () => {
    try {
      checkCloneTemplate(clone, { id: "tmpl_TRIP000000000000", creatorId: OTHER });
    } catch (err) {
      expect(ConnectError.from(err).code).toBe(Code.InvalidArgument);
      expect(fieldViolations(ConnectError.from(err)).map((v) => v.field)).toEqual(["template_creator_id"]);
      return;
    }
    throw new Error("accepted");
  });
});
