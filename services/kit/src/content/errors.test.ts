import { Code, ConnectError } from "@connectrpc/connect";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  PreconditionFailureSchema,
  Provisioning,
  ProvisioningSchema,
} from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { describe, expect, it } from "vitest";
import {
  alreadyExists,
  conflict,
  failedPrecondition,
  fieldViolations,
  invalidArgument,
  invalidArguments,
  notFound,
  permissionDenied,
  preconditionFailed,
  preconditionFailureOf,
  requireEnum,
  requireInt,
  requirePresent,
  requireString,
  unauthenticated,
} from "./errors.js";

/** Runs fn, expects an InvalidArgument naming `field`, returns its description. */
function violation(fn: () => unknown, field: string): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    const [v, ...rest] = fieldViolations(err);
    expect(rest).toEqual([]);
    expect(v!.field).toBe(field);
    expect((err as ConnectError).rawMessage).toBe(`${field}: ${v!.description}`);
    return v!.description;
  }
  throw new Error("expected an InvalidArgument error");
}

describe("error helpers", () => {
  it("give the right codes and messages", () => {
    expect(notFound("template t1")).toMatchObject({ code: Code.NotFound, rawMessage: "template t1 not found" });
    expect(conflict("version is 4, not 3").code).toBe(Code.Aborted);
    expect(alreadyExists("x").code).toBe(Code.AlreadyExists);
    expect(permissionDenied("x").code).toBe(Code.PermissionDenied);
    expect(unauthenticated("x").code).toBe(Code.Unauthenticated);
    expect(failedPrecondition("x").code).toBe(Code.FailedPrecondition);
  });

  it("attach field violations that fieldViolations reads back", () => {
    const err = invalidArguments([
      { field: "content.agent_name", description: "is required" },
      { field: "content.instructions", description: "too long" },
    ]);
    expect(err.rawMessage).toBe("content.agent_name: is required; content.instructions: too long");
    expect(fieldViolations(err)).toEqual([
      { field: "content.agent_name", description: "is required" },
      { field: "content.instructions", description: "too long" },
    ]);
    expect(fieldViolations(invalidArgument("a", "b"))).toEqual([{ field: "a", description: "b" }]);
    expect(fieldViolations(new Error("plain"))).toEqual([]);
    expect(fieldViolations(notFound("x"))).toEqual([]);
  });

  it("attach a precondition failure that preconditionFailureOf reads back, across the wire's JSON", () => {
    const failure = {
      type: "pool tool grant",
      subject: "template:tmpl_x",
      description: "an operator runs: pool grant-tools",
    };
    const err = preconditionFailed("needs a grant", failure);
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(preconditionFailureOf(err)).toEqual(failure);
    // As a client receives it: the detail as bytes.
    const wire = new ConnectError(err.rawMessage, err.code);
    wire.details.push({
      type: PreconditionFailureSchema.typeName,
      value: toBinary(PreconditionFailureSchema, create(PreconditionFailureSchema, failure)),
    });
    expect(preconditionFailureOf(wire)).toEqual(failure);
    expect(preconditionFailureOf(failedPrecondition("x"))).toBeUndefined();
    expect(preconditionFailureOf(new Error("plain"))).toBeUndefined();
  });
});

describe("validation helpers", () => {
  it("requireString checks presence, length in characters, bytes and pattern", () => {
    expect(requireString("name", "ok")).toBe("ok");
    expect(violation(() => requireString("name", ""), "name")).toBe("is required");
    expect(violation(() => requireString("name", 5), "name")).toBe("must be a string");
    expect(requireString("bio", "", { min: 0 })).toBe("");
    expect(requireString("name", "🙂🙂🙂", { max: 3 })).toBe("🙂🙂🙂");
    expect(violation(() => requireString("name", "abcd", { max: 3 }), "name")).toBe("must be at most 3 characters");
    expect(violation(() => requireString("name", "ab", { min: 3 }), "name")).toBe("must be at least 3 characters");
    expect(violation(() => requireString("text", "ééé", { maxBytes: 5 }), "text")).toBe("must be at most 5 bytes");
    const hex = { pattern: /^[0-9a-f]+$/, patternHint: "lower-case hex" };
    expect(requireString("id", "beef", hex)).toBe("beef");
    expect(violation(() => requireString("id", "BEEF", hex), "id")).toBe("must be lower-case hex");
    expect(requireString("id", "", { ...hex, min: 0 })).toBe("");
  });

  it("requireEnum refuses unknown values and UNSPECIFIED unless allowed", () => {
    expect(requireEnum("tools[0].provisioning", Provisioning.POOL, ProvisioningSchema)).toBe(Provisioning.POOL);
    expect(violation(() => requireEnum("p", Provisioning.UNSPECIFIED, ProvisioningSchema), "p")).toBe("is required");
    expect(requireEnum("p", Provisioning.UNSPECIFIED, ProvisioningSchema, { allowUnspecified: true })).toBe(0);
    expect(violation(() => requireEnum("p", 42 as Provisioning, ProvisioningSchema), "p")).toBe("unknown value 42");
  });

  it("requireInt checks integers and bounds, numbers and bigints", () => {
    expect(requireInt("page_size", 10, { min: 1, max: 100 })).toBe(10);
    expect(violation(() => requireInt("page_size", 0, { min: 1 }), "page_size")).toBe("must be at least 1");
    expect(violation(() => requireInt("page_size", 101, { max: 100 }), "page_size")).toBe("must be at most 100");
    expect(violation(() => requireInt("page_size", 1.5), "page_size")).toBe("must be an integer");
    expect(requireInt("version", 5n, { min: 1n })).toBe(5n);
    expect(violation(() => requireInt("version", 0n, { min: 1 }), "version")).toBe("must be at least 1");
  });

  it("requirePresent refuses undefined and null", () => {
    expect(requirePresent("content", { a: 1 })).toEqual({ a: 1 });
    expect(violation(() => requirePresent("content", undefined), "content")).toBe("is required");
  });
});
