import { Code, ConnectError } from "@connectrpc/connect";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  FieldViolationSchema,
  PreconditionFailureSchema as OldPreconditionFailureSchema,
  Provisioning,
  ProvisioningSchema,
} from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { BadRequestSchema, PreconditionFailureSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";
import { describe, expect, it } from "vitest";
import {
  alreadyExists,
  checkAll,
  refuseViolations,
  violationsOf,
  conflict,
  failedPrecondition,
  failedPreconditionOn,
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

/** A detail as a client receives it: its type name and its bytes. */
function wireDetail<D extends DescMessage>(desc: D, init: MessageInitShape<D>) {
  return { type: desc.typeName, value: toBinary(desc, create(desc, init)) };
}

function received(message: string, code: Code, details: { type: string; value: Uint8Array }[]): ConnectError {
  const err = new ConnectError(message, code);
  err.details.push(...details);
  return err;
}

/** The error as a client of any protocol receives it: each detail as bytes. */
function asReceived(err: ConnectError): ConnectError {
  return received(
    err.rawMessage,
    err.code,
    err.details.map((d) =>
      "desc" in d ? { type: d.desc.typeName, value: toBinary(d.desc, create(d.desc, d.value)) } : d,
    ),
  );
}

function typeName(d: ConnectError["details"][number]): string {
  return "desc" in d ? d.desc.typeName : d.type;
}

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

  it("write the violations as one google.rpc.BadRequest, which fieldViolations reads back from the wire's bytes", () => {
    const violations = [
      { field: "content.agent_name", description: "is required" },
      { field: "content.instructions", description: "too long" },
    ];
    const err = invalidArguments(violations);
    expect(err.details.map(typeName)).toEqual(["google.rpc.BadRequest"]);
    expect(err.findDetails(BadRequestSchema)[0]?.fieldViolations).toMatchObject(violations);
    expect(fieldViolations(asReceived(err))).toEqual(violations);
    expect(typeName(failedPreconditionOn("acknowledged", "must be true").details[0]!)).toBe("google.rpc.BadRequest");
  });

  it("attach a google.rpc.PreconditionFailure that preconditionFailureOf reads back from the wire's bytes", () => {
    const failure = {
      type: "pool tool grant",
      subject: "template:tmpl_x",
      description: "an operator runs: pool grant-tools",
    };
    const err = preconditionFailed("needs a grant", failure);
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.details.map(typeName)).toEqual(["google.rpc.PreconditionFailure"]);
    expect(err.findDetails(PreconditionFailureSchema)[0]?.violations).toMatchObject([failure]);
    expect(preconditionFailureOf(err)).toEqual(failure);
    expect(preconditionFailureOf(asReceived(err))).toEqual(failure);
    expect(preconditionFailureOf(failedPrecondition("x"))).toBeUndefined();
    expect(preconditionFailureOf(new Error("plain"))).toBeUndefined();
  });

  it("read the deprecated convos.pool.v1 details that a server of the release before writes", () => {
    const old = received("x", Code.InvalidArgument, [
      wireDetail(FieldViolationSchema, { field: "a", description: "b" }),
      wireDetail(FieldViolationSchema, { field: "c", description: "d" }),
    ]);
    expect(fieldViolations(old)).toEqual([
      { field: "a", description: "b" },
      { field: "c", description: "d" },
    ]);
    const failure = { type: "t", subject: "s", description: "d" };
    const oldFailure = received("x", Code.FailedPrecondition, [wireDetail(OldPreconditionFailureSchema, failure)]);
    expect(preconditionFailureOf(oldFailure)).toEqual(failure);
    // Both at once (a release that wrote both): the standard ones, no double.
    const both = received("x", Code.InvalidArgument, [
      wireDetail(BadRequestSchema, { fieldViolations: [{ field: "a", description: "b" }] }),
      wireDetail(FieldViolationSchema, { field: "a", description: "b" }),
    ]);
    expect(fieldViolations(both)).toEqual([{ field: "a", description: "b" }]);
  });
});

describe("checkAll", () => {
  it("throws the violations of every check that refuses as one INVALID_ARGUMENT, in the checks' order", () => {
    let err: unknown;
    try {
      checkAll(
        () => invalidArgument("ok", "never thrown"),
        () => {
          throw invalidArgument("expected_version", "is required");
        },
        () => {
          throw invalidArguments([
            { field: "visibility", description: "bad" },
            { field: "tags[0]", description: "long" },
          ]);
        },
      );
    } catch (e) {
      err = e;
    }
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["expected_version", "visibility", "tags[0]"]);
  });

  it("throws at once what is no field's refusal, and nothing when every check passes", () => {
    expect(() =>
      checkAll(
        () => {
          throw invalidArgument("a", "b");
        },
        () => {
          throw notFound("template x");
        },
      ),
    ).toThrow("template x not found");
    expect(() => checkAll(() => 1)).not.toThrow();
  });
});

describe("violationsOf and refuseViolations", () => {
  it("collects every refusing check's violations without throwing, then throws them once, each with its field", () => {
    const found = violationsOf(
      () => requireString("creator_id", ""),
      () => requireString("agent_name", "ok"),
      () => requireInt("stars", 9, { min: 1, max: 5 }),
    );
    expect(found.map((v) => v.field)).toEqual(["creator_id", "stars"]);
    let err: unknown;
    try {
      refuseViolations(found);
    } catch (e) {
      err = e;
    }
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect(fieldViolations(err)).toEqual(found);
    expect(() => refuseViolations([])).not.toThrow();
  });

  it("throws at once what is no field's refusal", () => {
    expect(() =>
      violationsOf(() => {
        throw notFound("template x");
      }),
    ).toThrow("template x not found");
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
