// What the requester learns of a failed claim (errors.ts), pure: the
// errors are built here as an instance, a host or a provider would throw them.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { fieldViolations, invalidArgument } from "@convos-pool/kit/content";
import { CREATOR_SILENT, claimFailure, provisioningFailure } from "./errors.js";
import { ProvisioningError } from "../providers/types.js";

const said = (e: ConnectError) => [Code[e.code], e.rawMessage];

describe("a pool tool that could not be provisioned", () => {
  it("an exhausted provider is RESOURCE_EXHAUSTED, one away UNAVAILABLE, anything else UNAVAILABLE", () => {
    expect(said(provisioningFailure("sms", new ProvisioningError("no numbers left", "exhausted")))).toEqual([
      "ResourceExhausted",
      'could not provision tool "sms": no numbers left; nothing was claimed, try again',
    ]);
    expect(said(provisioningFailure("sms", new ProvisioningError("carrier down", "unavailable")))).toEqual([
      "Unavailable",
      'could not provision tool "sms": carrier down; nothing was claimed, try again',
    ]);
    expect(said(provisioningFailure("email", new Error("boom")))).toEqual([
      "Unavailable",
      'could not provision tool "email": boom; nothing was claimed, try again',
    ]);
  });
});

describe("a claim that failed after it began", () => {
  const hostAway = new ConnectError("connect ECONNREFUSED 10.0.0.7:7001", Code.Unavailable);

  it("provisioning: the provisioning failure as it was shaped", () => {
    const e = new ConnectError("could not provision", Code.ResourceExhausted);
    expect(claimFailure("provision", e)).toBe(e);
  });

  it("configure: UNAVAILABLE, never naming the host's address", () => {
    expect(said(claimFailure("configure", hostAway))).toEqual([
      "Unavailable",
      "the agent instance could not be configured (the agent's host did not answer); nothing was claimed, try again",
    ]);
    expect(said(claimFailure("configure", new Error("bug")))).toEqual([
      "Unavailable",
      "the agent instance could not be configured (an internal error); nothing was claimed, try again",
    ]);
  });

  it("join: an invite the instance refused names conversation_invite with the instance's own words", () => {
    const refused = invalidArgument("conversation_invite", "the invite has expired");
    const e = claimFailure("join", refused);
    expect(e.code).toBe(Code.InvalidArgument);
    expect(fieldViolations(e).map((v) => [v.field, v.description])).toEqual([
      ["conversation_invite", "could not be joined: the invite has expired"],
    ]);
  });

  it("join: the instance's refusals pass on with their code, a host away is UNAVAILABLE", () => {
    for (const code of [Code.FailedPrecondition, Code.PermissionDenied, Code.NotFound]) {
      const e = claimFailure("join", new ConnectError("the creator did not answer", code));
      expect(said(e)).toEqual([
        Code[code],
        "joining the conversation failed (the creator did not answer); nothing was claimed",
      ]);
    }
    expect(said(claimFailure("join", hostAway))).toEqual([
      "Unavailable",
      "joining the conversation failed (the agent's host did not answer); nothing was claimed",
    ]);
    expect(claimFailure("join", new ConnectError("odd", Code.ResourceExhausted)).code).toBe(Code.Unavailable);
  });

  it("join: a creator who never let the agent in is said in people's terms, with no inbox id and no milliseconds", () => {
    const inbox = "a".repeat(64);
    const e = claimFailure(
      "join",
      new ConnectError(
        `conversation_invite: the creator ${inbox} did not add us within 60000 ms`,
        Code.DeadlineExceeded,
      ),
    );
    expect(e.code).toBe(Code.DeadlineExceeded);
    expect(e.rawMessage).toBe(CREATOR_SILENT);
    expect(e.rawMessage).toMatch(/the conversation's creator did not let the agent in/);
    expect(e.rawMessage).not.toMatch(/[0-9a-f]{16}|\bms\b|60000/);
  });

  it("complete: a Connect error as it is, anything else UNAVAILABLE", () => {
    const aborted = new ConnectError("the claim took too long and was abandoned; try again", Code.Aborted);
    expect(claimFailure("complete", aborted)).toBe(aborted);
    expect(said(claimFailure("complete", new Error("db")))).toEqual([
      "Unavailable",
      "the claim could not be completed (an internal error); nothing was claimed, try again",
    ]);
  });
});
