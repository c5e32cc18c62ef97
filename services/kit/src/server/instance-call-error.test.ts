import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { InstanceCallErrorSchema } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { describe, expect, it } from "vitest";
import { fieldViolations, invalidArgument } from "../content/errors.js";
import { MAX_ERROR_MESSAGE } from "./bounded-errors.js";
import { fromInstanceCallError, toInstanceCallError } from "./instance-call-error.js";

const roundTrip = (err: unknown) => fromInstanceCallError(toInstanceCallError(err));

describe("an instance's error within a host's batch call", () => {
  it("reads back as the error thrown: code, message and the field it names", () => {
    const back = roundTrip(invalidArgument("conversation_invite", "not a Convos invite"));
    expect([back.code, back.rawMessage, fieldViolations(back)]).toEqual([
      Code.InvalidArgument,
      "conversation_invite: not a Convos invite",
      [{ field: "conversation_invite", description: "not a Convos invite" }],
    ]);
  });

  it("keeps details that arrived from the wire, and a second trip changes nothing", () => {
    const twice = roundTrip(roundTrip(invalidArgument("owner_id", "is required")));
    expect(fieldViolations(twice)).toEqual([{ field: "owner_id", description: "is required" }]);
  });

  it("is cut to the size a server answers, and an error that is not a ConnectError is UNKNOWN with its message", () => {
    expect(roundTrip(new ConnectError("x".repeat(MAX_ERROR_MESSAGE + 10), Code.NotFound)).rawMessage).toMatch(
      /… \(10 more characters\)$/,
    );
    const plain = roundTrip(new Error("disk full"));
    expect([plain.code, plain.rawMessage]).toEqual([Code.Unknown, "disk full"]);
  });

  it("a code this version does not know, OK, or no error at all is never read as success", () => {
    expect(fromInstanceCallError(create(InstanceCallErrorSchema, { code: 99, message: "new" })).code).toBe(
      Code.Unknown,
    );
    expect(fromInstanceCallError(create(InstanceCallErrorSchema, { code: 0, message: "ok?" })).code).toBe(Code.Unknown);
    expect(fromInstanceCallError(undefined).code).toBe(Code.Internal);
  });
});
