// The route table's error mappings, as plain calls: real ConnectErrors with
// real FieldViolation and LimitExceeded details, no server.

import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { invalidArgument, invalidArguments, preconditionFailed } from "@convos-pool/kit/content";
import { limitExceeded } from "@convos-pool/kit/server";
import { AGENT_LIST_ERRORS, CLAIM_RETRY_AFTER_SECONDS } from "../agents/errors.js";
import { CLAIM_ERRORS } from "../claims/json.js";
import {
  AGENT_ERRORS,
  RestError,
  TEMPLATE_ERRORS,
  Violations,
  badRequest,
  fieldNames,
  renaming,
  toRestError,
} from "./errors.js";

const nothingSent = () => false;

describe("toRestError", () => {
  it("names the template body's fields: content. and patch. dropped, expected_version as If-Match, paging as the query's", () => {
    const e = toRestError(
      invalidArguments([
        { field: "content.tools[1].prompt", description: "is too long" },
        { field: "expected_version", description: "is stale" },
      ]),
      TEMPLATE_ERRORS,
    );
    expect([e.status, e.type, e.field, e.message]).toEqual([
      400,
      "invalid_request",
      "tools[1].prompt",
      "tools[1].prompt: is too long; If-Match: is stale",
    ]);
    // Each field in the body's `violations`, in the order the service named them.
    expect(e.body.error.violations).toEqual([
      { field: "tools[1].prompt", description: "is too long" },
      { field: "If-Match", description: "is stale" },
    ]);
    expect(toRestError(invalidArgument("page_token", "bad")).field).toBe("cursor");
    expect(toRestError(invalidArgument("patch", "sets no field")).field).toBe("body");
  });

  it("keeps the agent services' snake_case field paths, which are the body's, but for a listing's query parameters", () => {
    for (const [rpc, rest] of [
      ["template_id", "template_id"],
      ["user_config.personal-email", "user_config.personal-email"],
      ["owner_signature.issued_at", "owner_signature.issued_at"],
      ["entry_ids[3]", "entry_ids[3]"],
      ["owner_id", "owner"],
      ["include_ended", "ended"],
      ["page_size", "limit"],
      ["page_token", "cursor"],
    ] as const) {
      expect(toRestError(invalidArgument(rpc, "is wrong"), AGENT_ERRORS).body.error).toMatchObject({
        field: rest,
        message: `${rest}: is wrong`,
      });
    }
  });

  it("names the claim's invite as the body did: conversation_id when the alias was sent", () => {
    const err = invalidArgument("conversation_invite", "is not an invite");
    expect(toRestError(err, CLAIM_ERRORS, nothingSent).field).toBe("conversation_invite");
    const viaAlias = toRestError(err, CLAIM_ERRORS, (f) => f === "conversation_id");
    expect([viaAlias.field, viaAlias.message]).toEqual(["conversation_id", "conversation_id: is not an invite"]);
    expect(toRestError(invalidArgument("conversation_invite_x", "?"), CLAIM_ERRORS, () => true).field).toBe(
      "conversation_invite_x",
    );
  });

  it("answers an empty warm pool (RESOURCE_EXHAUSTED without a limit) 503 with Retry-After on the claim and My agents, 429 elsewhere", () => {
    const empty = new ConnectError("no idle instance", Code.ResourceExhausted);
    for (const mapping of [CLAIM_ERRORS, AGENT_LIST_ERRORS]) {
      const e = toRestError(empty, mapping);
      expect([e.status, e.type, e.body.error.code, e.headers]).toEqual([
        503,
        "unavailable",
        "resource_exhausted",
        { "retry-after": String(CLAIM_RETRY_AFTER_SECONDS) },
      ]);
    }
    expect(toRestError(empty, AGENT_ERRORS).status).toBe(429);
  });

  it("answers a limit of the pool 429 with its own Retry-After, whatever the route maps RESOURCE_EXHAUSTED to", () => {
    const e = toRestError(limitExceeded("claims per caller", "claims per caller is 3 per 60 s", 42), CLAIM_ERRORS);
    expect([e.status, e.type, e.headers]).toEqual([429, "rate_limited", { "retry-after": "42" }]);
  });

  it("answers a missing operator's grant 422 failed_precondition with its message, never a rate limit", () => {
    const refused = preconditionFailed(
      "template tmpl_x asks for a phone number (sms) … `npm run -s pool -- grant-tools`",
      {
        type: "pool tool grant",
        subject: "template:tmpl_x",
        description: "one of the pool's operators allows sms with: npm run -s pool -- grant-tools tmpl_x --tools sms",
      },
    );
    for (const mapping of [CLAIM_ERRORS, AGENT_ERRORS]) {
      const e = toRestError(refused, mapping);
      expect([e.status, e.type, e.body.error.code, e.headers]).toEqual([
        422,
        "unprocessable_entity",
        "failed_precondition",
        {},
      ]);
      expect(e.message).toBe(refused.rawMessage);
    }
  });

  it("hides an internal error's message, and passes a RestError through as it is", () => {
    const e = toRestError(new Error("select * from secrets failed"), AGENT_ERRORS);
    expect(e.body).toEqual({ error: { type: "internal", code: "internal", message: "internal error" } });
    const mine = badRequest("owner", "is required");
    expect(toRestError(mine, CLAIM_ERRORS)).toBe(mine);
    expect(mine).toBeInstanceOf(RestError);
  });

  it("renames whole field paths only, the others by the fallback", () => {
    const field = renaming({ live_only: "live" }, (f) => `x.${f}`);
    expect([field("live_only", nothingSent), field("live_only.a", nothingSent)]).toEqual(["live", "x.live_only.a"]);
  });
});

describe("Violations", () => {
  it("keeps every field a body's reads refuse and throws them as one 400, the first as `field`", () => {
    const check = new Violations();
    expect(check.read(() => 5)).toBe(5);
    expect(
      check.read(() => {
        throw badRequest("mode", "must be one of auto, speak");
      }),
    ).toBeUndefined();
    check.add({ field: "cooldown_seconds", description: "must be at most 86400" });
    // A rule's violation of a field a read already named is the same mistake: kept once.
    check.add({ field: "mode", description: "is unknown" });
    const e = (() => {
      try {
        check.done();
      } catch (err) {
        return err as RestError;
      }
      throw new Error("not thrown");
    })();
    expect(e.body).toEqual({
      error: {
        type: "invalid_request",
        code: "invalid_argument",
        message: "mode: must be one of auto, speak; cooldown_seconds: must be at most 86400",
        field: "mode",
        violations: [
          { field: "mode", description: "must be one of auto, speak" },
          { field: "cooldown_seconds", description: "must be at most 86400" },
        ],
      },
    });
  });

  it("throws at once what is not a field's 400, and nothing when no read refused", () => {
    const check = new Violations();
    expect(() =>
      check.read(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(() => check.done()).not.toThrow();
  });

  it("names the service's violations of the rest, in REST's words, after its own once it refused any, and runs no check otherwise", () => {
    const names = fieldNames({ template_id: "template_id", expected_version: "If-Match", visibility: "visibility" });
    const service = [
      { field: "template_id", description: "must be a template id" },
      { field: "expected_version", description: "is required" },
      { field: "visibility", description: "must be public or private" },
    ];
    const refused = new Violations();
    refused.read(() => {
      throw badRequest("visibility", 'must be "public" or "private"');
    });
    let e: RestError | undefined;
    try {
      refused.doneWith(names, () => service);
    } catch (err) {
      e = err as RestError;
    }
    // REST's own word first, its description kept; then the service's, each field as REST says it.
    expect(e?.violations).toEqual([
      { field: "visibility", description: 'must be "public" or "private"' },
      { field: "template_id", description: "must be a template id" },
      { field: "If-Match", description: "is required" },
    ]);
    let ran = 0;
    new Violations().doneWith(names, () => {
      ran++;
      return service;
    });
    expect(ran).toBe(0);
  });
});

describe("Violations beside the service's", () => {
  it("names a field once: not the service's whole beside REST's part of it, nor its part beside REST's whole", () => {
    const names = fieldNames({ content: "content", bounds: "bounds", template_id: "template_id" });
    const check = new Violations();
    check.add({ field: "content.agent_name", description: "must be a string" }, { field: "bounds", description: "x" });
    let e: RestError | undefined;
    try {
      check.doneWith(names, () => [
        { field: "content", description: "is required" },
        { field: "bounds.pauses", description: "must be 0.05 to 10" },
        { field: "template_id", description: "must be a template id" },
      ]);
    } catch (err) {
      e = err as RestError;
    }
    expect(e?.violations.map((v) => v.field)).toEqual(["content.agent_name", "bounds", "template_id"]);
  });
});

describe("fieldNames", () => {
  it("names a field, its nested paths and a message spread into the body, and leaves a field it lacks as it is", () => {
    const names = fieldNames({
      content: "",
      expected_version: "If-Match",
      signature: "signature",
      share_basis_points: (sent) => (sent("share_percent") ? "share_percent" : "share_basis_points"),
    });
    const name = (f: string, sent: (b: string) => boolean = nothingSent) => names.field(f, sent);
    expect(name("content.tools[1].prompt")).toBe("tools[1].prompt");
    expect(name("content")).toBe("body");
    expect(name("expected_version")).toBe("If-Match");
    expect(name("signature.issued_at")).toBe("signature.issued_at");
    expect(name("share_basis_points", (b) => b === "share_percent")).toBe("share_percent");
    expect(name("share_basis_points")).toBe("share_basis_points");
    expect(name("elsewhere.x")).toBe("elsewhere.x");
  });
});
