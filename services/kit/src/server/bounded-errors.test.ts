import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { QuotaFailureSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";
import { fieldViolations, invalidArgument, invalidArguments, notFound } from "../content/errors.js";
import { MAX_ERROR_MESSAGE, boundedError } from "./bounded-errors.js";

describe("boundedError", () => {
  it("leaves an error that fits as it is", () => {
    const err = invalidArgument("a", "b");
    expect(boundedError(err)).toBe(err);
  });

  it("cuts a long message, long violations and too many of them, keeping the code and other details", () => {
    const many = Array.from({ length: 30 }, (_, i) => ({
      field: `user_config.${"k".repeat(600)}${i}`,
      description: "is unknown",
    }));
    const source = invalidArguments(many);
    source.details.push({ desc: QuotaFailureSchema, value: {} });
    const err = boundedError(source);
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.details.map((d) => ("desc" in d ? d.desc.typeName : d.type))).toEqual([
      "google.rpc.QuotaFailure",
      "google.rpc.BadRequest",
    ]);
    expect([...err.rawMessage].length).toBeLessThan(MAX_ERROR_MESSAGE + 60);
    expect(err.rawMessage).toMatch(/… \(\d+ more characters\) \(and 10 more\)$/);
    const kept = fieldViolations(err);
    expect(kept).toHaveLength(20);
    expect(kept[0]!.field).toMatch(/^user_config\.k+… \(\d+ more characters\)$/);
    expect(kept[0]!.description).toBe("is unknown");
  });

  it("replaces lone surrogates, which no protocol can carry", () => {
    expect(boundedError(notFound("instance \ud800x")).rawMessage).toBe("instance \ufffdx not found");
    expect(boundedError(notFound("🙂")).rawMessage).toBe("🙂 not found");
  });
});
