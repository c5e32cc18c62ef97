// Strict request bodies and their one casing, as plain calls on JsonObject
// (no server, no body stream).

import { describe, expect, it } from "vitest";
import { RestError } from "./errors.js";
import { JsonObject, unknownName } from "./json.js";
import { snakeCase } from "@convos-pool/kit/content";

/** The RestError a parse throws, as `[field, message]`. */
function refusal(parse: () => unknown): [string | undefined, string] {
  try {
    parse();
  } catch (err) {
    if (err instanceof RestError) return [err.field, err.message];
    throw err;
  }
  throw new Error("parsed");
}

describe("REST body field names", () => {
  it("spells camelCase names in snake_case, and leaves snake_case ones as they are", () => {
    expect(["templateId", "dailySpendLimitWei", "template_id", "q", "ownerSignature"].map(snakeCase)).toEqual([
      "template_id",
      "daily_spend_limit_wei",
      "template_id",
      "q",
      "owner_signature",
    ]);
  });

  it("refuses a camelCase field whose snake_case spelling is allowed, naming the field as sent and telling that spelling", () => {
    expect(refusal(() => JsonObject.body({ templateId: "tmpl_x" }, ["template_id"]))).toEqual([
      "templateId",
      "templateId: unknown field; did you mean template_id?",
    ]);
  });

  it("does so in nested objects too, naming the whole path", () => {
    const body = JsonObject.body({ owner_signature: { signature: "0x", issuedAt: 1, nonce: "0x" } }, [
      "owner_signature",
    ]);
    expect(refusal(() => body.object("owner_signature", ["signature", "issued_at", "nonce"]))).toEqual([
      "owner_signature.issuedAt",
      "owner_signature.issuedAt: unknown field; did you mean issued_at?",
    ]);
  });

  it("calls any other field just unknown", () => {
    expect(refusal(() => JsonObject.body({ colour: "red" }, ["template_id"]))).toEqual([
      "colour",
      "colour: unknown field",
    ]);
    expect(unknownName("pageSize", ["limit"], "unknown query parameter")).toBe("unknown query parameter");
    expect(unknownName("includeArchived", ["include_archived"], "unknown query parameter")).toBe(
      "unknown query parameter; did you mean include_archived?",
    );
  });
});

describe("a map of strings", () => {
  it("keeps every key as sent, __proto__ and constructor included, as Connect's JSON keeps them", () => {
    const sent = JSON.parse('{"user_config":{"__proto__":"","constructor":"x","a":"b"}}') as unknown;
    const map = JsonObject.body(sent, ["user_config"]).stringMap("user_config");
    expect(Object.entries(map ?? {})).toEqual([
      ["__proto__", ""],
      ["constructor", "x"],
      ["a", "b"],
    ]);
    expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
  });
});
