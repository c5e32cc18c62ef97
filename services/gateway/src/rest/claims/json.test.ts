// The claim body of POST /api/pool/claim as a plain call (no server): every
// field of the wrong type or shape named at once, each in error.violations;
// the claims service's own rules (docs/claims.md) are not run here.

import { describe, expect, it } from "vitest";
import { CLAIM_FIELDS, claimFromBody } from "./json.js";
import { RestError } from "../core/errors.js";
import { JsonObject } from "../core/json.js";

const parse = (body: unknown, header?: string) => claimFromBody(JsonObject.body(body, CLAIM_FIELDS), header);

function refused(body: unknown, header?: string): string[] {
  try {
    parse(body, header);
  } catch (err) {
    if (err instanceof RestError) return err.violations.map((v) => v.field);
    throw err;
  }
  throw new Error("parsed");
}

describe("POST /api/pool/claim body", () => {
  it("takes a claim by its names, the invite or its alias", () => {
    const claim = parse({
      requester: "r",
      template_id: "tmpl_x",
      conversation_id: "https://x",
      user_config: { a: "b" },
    });
    expect(claim).toMatchObject({ requester: "r", templateId: "tmpl_x", conversationInvite: "https://x" });
    expect(claim.userConfig).toEqual({ a: "b" });
  });

  it("names every field of the wrong type or shape at once", () => {
    expect(
      refused({
        conversation_invite: 5,
        requester: 7,
        user_config: { email: 1 },
        carry: "memory",
        confirm_second_agent: "yes",
      }),
    ).toEqual(["conversation_invite", "requester", "user_config.email", "carry", "confirm_second_agent"]);
    expect(
      refused({ conversation_invite: "https://x", conversation_id: "ab".repeat(16), idempotency_key: "a" }, "b"),
    ).toEqual(["conversation_id", "idempotency_key"]);
  });

  it("passes on a requester and an invite left out as empty, for the claims service to name with the template id", () => {
    const req = claimFromBody(JsonObject.body({}, CLAIM_FIELDS));
    expect([req.requester, req.conversationInvite, req.templateId]).toEqual(["", "", ""]);
  });
});
