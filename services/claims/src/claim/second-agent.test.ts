// A second agent of one template in one conversation (second-agent.ts): the
// pure decision, in memory.
import { Code, ConnectError } from "@connectrpc/connect";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { fieldViolations } from "@convos-pool/kit/content";
import { checkSecondAgent, CONFIRM_FIELD } from "./second-agent.js";

const SAUL = "5a01".padEnd(64, "0");
const ANA = "a4a0".padEnd(64, "0");
const there = { id: "inst_0123456789abcdef", ownerId: SAUL, agentName: "Trip Planner" };

const refusal = (f: () => void): ConnectError => {
  try {
    f();
  } catch (err) {
    return err as ConnectError;
  }
  throw new Error("not refused");
};

describe("a second agent of a template", () => {
  it("is refused unconfirmed with FAILED_PRECONDITION naming confirm_second_agent and the agent there", () => {
    const err = refusal(() => checkSecondAgent(there, SAUL, false));
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(fieldViolations(err).map((v) => v.field)).toEqual([CONFIRM_FIELD]);
    expect(err.rawMessage).toContain("already has Trip Planner (your agent inst_0123456789abcdef)");
  });

  it("names the agent's id to its owner only", () => {
    const err = refusal(() => checkSecondAgent(there, ANA, false));
    expect(err.rawMessage).toContain("another member's agent");
    expect(err.rawMessage).not.toContain(there.id);
    expect(err.rawMessage).not.toContain(SAUL);
  });

  test.prop([fc.boolean(), fc.constantFrom(SAUL, ANA)])(
    "goes through when confirmed, or when no agent of the template is there",
    (confirmed, requester) => {
      expect(() => checkSecondAgent(undefined, requester, confirmed)).not.toThrow();
      expect(() => checkSecondAgent(there, requester, true)).not.toThrow();
    },
  );
});
