// The bounds a rollout step signs: defaults filled in, one canonical JSON,
// one hash whatever the order the fields were set in. Pure; nothing stands in.
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RolloutBoundsSchema } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { snakeCase } from "../content/contract.js";
import { ROLLOUT_SIGNALS } from "../content/rollout.js";
import { canonicalJson } from "../content/template.js";
import { rolloutBoundsFields, rolloutBoundsHash, rolloutBoundsJson } from "./rollout-step.js";

describe("a rollout's bounds as signed", () => {
  it("fills every unset bound with 0.5 and the false alarm with 0.05, by the proto's field names", () => {
    expect(canonicalJson(rolloutBoundsJson(create(RolloutBoundsSchema, { thumbsDown: 0.25 })))).toBe(
      '{"approvals_declined":0.5,"corrections":0.5,"false_alarm":0.05,"pauses":0.5,"removals":0.5,' +
        '"stop_requests":0.5,"thumbs_down":0.25,"tool_calls_failed":0.5}',
    );
  });

  it("names every signal the pool watches, by its proto name", () => {
    expect(Object.keys(rolloutBoundsJson()).sort()).toEqual([...ROLLOUT_SIGNALS.map(snakeCase), "false_alarm"].sort());
  });

  it("hashes bounds left unset as the defaults written out", () => {
    const written = create(RolloutBoundsSchema, {
      removals: 0.5,
      pauses: 0.5,
      stopRequests: 0.5,
      thumbsDown: 0.5,
      corrections: 0.5,
      toolCallsFailed: 0.5,
      approvalsDeclined: 0.5,
      falseAlarm: 0.05,
    });
    expect(rolloutBoundsHash(rolloutBoundsJson())).toBe(rolloutBoundsHash(rolloutBoundsJson(written)));
  });

  it("gives different bounds different hashes and the same bounds the same hash", () => {
    const bound = fc.double({ min: 0.05, max: 10, noNaN: true });
    fc.assert(
      fc.property(bound, bound, (a, b) => {
        const ha = rolloutBoundsHash(rolloutBoundsJson({ corrections: a }));
        expect(ha).toBe(rolloutBoundsHash(rolloutBoundsJson({ corrections: a })));
        expect(ha === rolloutBoundsHash(rolloutBoundsJson({ corrections: b }))).toBe(a === b);
      }),
    );
  });

  it("reads the kept JSON back as the contract's fields, each bound where it was set", () => {
    const bound = fc.double({ min: 0.05, max: 10, noNaN: true });
    const signal = fc.constantFrom(...ROLLOUT_SIGNALS);
    fc.assert(
      fc.property(signal, bound, bound, (s, v, alarm) => {
        const fields = rolloutBoundsFields(rolloutBoundsJson({ [s]: v, falseAlarm: alarm }));
        for (const other of ROLLOUT_SIGNALS) expect(fields[other]).toBe(other === s ? v : 0.5);
        expect(fields.falseAlarm).toBe(alarm);
      }),
    );
  });
});
