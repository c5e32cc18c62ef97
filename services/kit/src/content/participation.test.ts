import { Code, ConnectError } from "@connectrpc/connect";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { describe, expect, it } from "vitest";
import {
  MAX_COOLDOWN_SECONDS,
  PARTICIPATION_MODE_NAMES,
  parseParticipationMode,
  participationModeName,
  resolveParticipation,
} from "./participation.js";
import { fieldViolations } from "./errors.js";

const violation = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).code).toBe(Code.InvalidArgument);
    return (e as ConnectError).rawMessage;
  }
  throw new Error("not refused");
};

describe("resolveParticipation", () => {
  it("is by the conversation's size with no cooldown unless set", () => {
    expect(resolveParticipation(undefined)).toEqual({ mode: ParticipationMode.UNSPECIFIED, cooldownSeconds: 0 });
    expect(resolveParticipation({ mode: ParticipationMode.PAUSED, cooldownSeconds: 60 })).toEqual({
      mode: ParticipationMode.PAUSED,
      cooldownSeconds: 60,
    });
  });

  it("refuses an unknown mode and a cooldown out of range, naming the field", () => {
    expect(violation(() => resolveParticipation({ mode: 7 as ParticipationMode }))).toContain("participation.mode");
    for (const cooldownSeconds of [-1, 1.5, MAX_COOLDOWN_SECONDS + 1])
      expect(violation(() => resolveParticipation({ cooldownSeconds }))).toContain("participation.cooldown_seconds");
  });

  it("names a bad mode and a bad cooldown at once, one violation each", () => {
    let err: unknown;
    try {
      resolveParticipation({ mode: 7 as ParticipationMode, cooldownSeconds: -1 });
    } catch (e) {
      err = e;
    }
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["participation.mode", "participation.cooldown_seconds"]);
  });
});

describe("mode names", () => {
  it("round-trip, exactly", () => {
    for (const n of PARTICIPATION_MODE_NAMES) expect(participationModeName(parseParticipationMode(n))).toBe(n);
    expect(parseParticipationMode("Speak")).toBeUndefined();
  });
});
