// A rollout's REST bodies and answers, as plain calls (no server): the
// share as a percent or in hundredths of one, the bounds, the step's action
// by name in, the proto's numbers out, and names and percents back.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  RolloutAction,
  RolloutBoundsSchema,
  RolloutSchema,
  RolloutState,
  RolloutWatchSchema,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { describe, expect, it } from "vitest";
import { RestError, Violations } from "../core/errors.js";
import { JsonObject } from "../core/json.js";
import {
  ROLLOUT_ERRORS,
  START_FIELDS,
  STEP_FIELDS,
  STEP_NAMES,
  rolloutToJson,
  startFromBody,
  stepFromBody,
} from "./json.js";

const SIG = { signature: "0xab", issued_at: 1_700_000_000, nonce: `0x${"1".repeat(64)}` };
const CONTENT = { agent_name: "Trip Planner", instructions: "Plan trips." };

/** A start's body read, REST's own faults thrown as one 400. */
function start(body: Record<string, unknown>) {
  const check = new Violations();
  const req = startFromBody("tmpl_x", JsonObject.body(body, START_FIELDS), check);
  check.done();
  return req;
}
/** A step's body read, REST's own faults thrown as one 400. */
function step(body: Record<string, unknown>) {
  const check = new Violations();
  const req = stepFromBody("tmpl_x", "ro_x", JsonObject.body(body, STEP_FIELDS), check);
  check.done();
  return req;
}

function refusal(read: () => unknown): [string | undefined, string] {
  try {
    read();
  } catch (err) {
    if (err instanceof RestError) return [err.field, err.message];
    throw err;
  }
  throw new Error("parsed");
}

const fullStart = (more: Record<string, unknown> = {}) => ({
  expected_version: 3,
  content: CONTENT,
  signature: SIG,
  share_percent: 10,
  fallback_signature: SIG,
  step_signature: SIG,
  ...more,
});

describe("POST /api/pool/templates/{id}/rollouts body", () => {
  it("reads the content, the version it is based on, the three signatures and a share in percent as hundredths of a percent", () => {
    const req = start(fullStart({ release_notes: "Budget first.", acknowledge_wallet_removal: true }));
    expect(req.templateId).toBe("tmpl_x");
    expect(req.expectedVersion).toBe(3n);
    expect(req.shareBasisPoints).toBe(1_000);
    expect(req.releaseNotes).toBe("Budget first.");
    expect(req.acknowledgeWalletRemoval).toBe(true);
    expect(req.content).toMatchObject({ agentName: "Trip Planner", instructions: "Plan trips." });
    for (const s of [req.signature, req.fallbackSignature, req.stepSignature])
      expect(s).toMatchObject({ signature: "0xab", issuedAt: 1_700_000_000n, nonce: SIG.nonce });
  });

  it("takes a share of 0.01 to 99.99 percent with two decimals, or in hundredths of a percent", () => {
    expect(start(fullStart({ share_percent: 0.01 })).shareBasisPoints).toBe(1);
    expect(start(fullStart({ share_percent: 0.29 })).shareBasisPoints).toBe(29);
    expect(start(fullStart({ share_percent: 12.5 })).shareBasisPoints).toBe(1_250);
    expect(start(fullStart({ share_percent: 99.99 })).shareBasisPoints).toBe(9_999);
    expect(start(fullStart({ share_percent: undefined, share_basis_points: 250 })).shareBasisPoints).toBe(250);
  });

  it("refuses a percent no share says, a share of the wrong type or given twice, naming the field", () => {
    for (const bad of [0, 100, 150, -1, 0.001, 10.005, "10"])
      expect(refusal(() => start(fullStart({ share_percent: bad })))[0], String(bad)).toBe("share_percent");
    expect(refusal(() => start(fullStart({ share_percent: undefined, share_basis_points: 2.5 })))[0]).toBe(
      "share_basis_points",
    );
    expect(refusal(() => start(fullStart({ share_basis_points: 1_000 })))[0]).toBe("share_percent");
    // What the RPC's uint32 cannot carry.
    for (const points of [-1, 2 ** 32])
      expect(refusal(() => start(fullStart({ share_percent: undefined, share_basis_points: points })))[0]).toBe(
        "share_basis_points",
      );
  });

  it("passes on hundredths out of range but within the RPC's uint32, and a share left out (0), for the service to name with the rest", () => {
    for (const points of [0, 10_000, 2 ** 31, 2 ** 32 - 1])
      expect(start(fullStart({ share_percent: undefined, share_basis_points: points })).shareBasisPoints).toBe(points);
    expect(start(fullStart({ share_percent: undefined })).shareBasisPoints).toBe(0);
  });

  it("names every bound that is no number at once, not the first", () => {
    const check = new Violations();
    startFromBody(
      "tmpl_x",
      JsonObject.body(fullStart({ bounds: { pauses: "x", thumbs_down: null } }), START_FIELDS),
      check,
    );
    expect(() => check.done()).toThrow(/bounds\.pauses: .*; bounds\.thumbs_down: /);
  });

  it("reads the bounds, leaving those not given at 0 (the default), and names a wrong one", () => {
    expect(start(fullStart()).bounds).toEqual(create(RolloutBoundsSchema));
    expect(start(fullStart({ bounds: { thumbs_down: 0.3, false_alarm: 0.01 } })).bounds).toEqual(
      create(RolloutBoundsSchema, { thumbsDown: 0.3, falseAlarm: 0.01 }),
    );
    expect(refusal(() => start(fullStart({ bounds: { thumbs_down: "0.3" } })))).toEqual([
      "bounds.thumbs_down",
      "bounds.thumbs_down: must be a number",
    ]);
    expect(refusal(() => start(fullStart({ bounds: { thumbsDown: 0.3 } })))).toEqual([
      "bounds.thumbsDown",
      "bounds.thumbsDown: unknown field; did you mean thumbs_down?",
    ]);
  });

  it("names the content's fields inside it, and passes on no content and version 0 for the service to name", () => {
    expect(start(fullStart({ content: undefined })).content).toBeUndefined();
    expect(start(fullStart({ expected_version: undefined })).expectedVersion).toBe(0n);
    expect(start(fullStart({ expected_version: -3 })).expectedVersion).toBe(-3n);
    expect(refusal(() => start(fullStart({ content: { agent_name: "A" } })))[0]).toBe("content.instructions");
    expect(refusal(() => start(fullStart({ content: { ...CONTENT, tags: [1] } })))[0]).toBe("content.tags[0]");
    expect(refusal(() => start(fullStart({ step_signature: { signature: "0x" } })))[0]).toBe(
      "step_signature.issued_at",
    );
  });
});

describe("POST /api/pool/templates/{id}/rollouts/{rollout_id}/steps body", () => {
  it("takes the action by name, a widen's share, and the others without one", () => {
    expect(step({ action: "widen", share_percent: 50, signature: SIG })).toMatchObject({
      templateId: "tmpl_x",
      rolloutId: "ro_x",
      action: RolloutAction.WIDEN,
      shareBasisPoints: 5_000,
    });
    expect(step({ action: "roll_back", signature: SIG })).toMatchObject({
      action: RolloutAction.ROLL_BACK,
      shareBasisPoints: 0,
    });
    expect(step({ action: "pause", share_basis_points: 1_000 }).shareBasisPoints).toBe(1_000);
    expect(step({ action: "resume" }).action).toBe(RolloutAction.RESUME);
    expect(step({ action: "promote" }).action).toBe(RolloutAction.PROMOTE);
  });

  it("refuses a word no action says and a widen without its share, and passes on no action for the service to name", () => {
    expect(refusal(() => step({ action: "halt" }))[0]).toBe("action");
    expect(refusal(() => step({ action: "ROLLOUT_ACTION_WIDEN" }))[0]).toBe("action");
    expect(refusal(() => step({ action: "widen" }))[0]).toBe("share_percent");
    expect(step({})).toMatchObject({ action: RolloutAction.UNSPECIFIED, shareBasisPoints: 0 });
  });
});

describe("a rollout's JSON", () => {
  it("names its state and each step's action, gives shares also as a percent, and the watch's figures", () => {
    const at = new Date("2026-11-28T10:00:00.000Z");
    const json = rolloutToJson(
      create(RolloutSchema, {
        rolloutId: "ro_abc",
        templateId: "tmpl_x",
        baselineVersion: 3n,
        candidateVersion: 4n,
        fallbackVersion: 5n,
        state: RolloutState.ROLLED_BACK,
        shareBasisPoints: 5_000,
        bounds: { thumbsDown: 0.3, removals: 0.5, falseAlarm: 0.05 },
        steps: [
          { action: RolloutAction.START, shareBasisPoints: 1_000, at: timestampFromDate(at) },
          { action: RolloutAction.ROLL_BACK, shareBasisPoints: 5_000, signature: { signature: "0xab", issuedAt: 5n } },
        ],
        watch: create(RolloutWatchSchema, {
          daysCounted: 4,
          threshold: 4.94,
          signals: [{ signal: "thumbs_down", candidateEvents: 9, candidateExposure: 100, evidence: 1.5 }],
          haltedOn: "",
        }),
        startedAt: timestampFromDate(at),
      }),
    );
    expect(json).toMatchObject({
      rollout_id: "ro_abc",
      baseline_version: 3,
      candidate_version: 4,
      fallback_version: 5,
      state: "rolled_back",
      share_basis_points: 5_000,
      share_percent: 50,
      bounds: { thumbs_down: 0.3, removals: 0.5, stop_requests: 0, false_alarm: 0.05 },
      steps: [
        { action: "start", share_basis_points: 1_000, share_percent: 10, at: at.toISOString(), signature: null },
        {
          action: "roll_back",
          share_percent: 50,
          at: null,
          signature: { signature: "0xab", issued_at: 5, nonce: "" },
        },
      ],
      watch: {
        days_counted: 4,
        threshold: 4.94,
        signals: [{ signal: "thumbs_down", candidate_events: 9, candidate_exposure: 100, baseline_events: 0 }],
        checked_at: null,
      },
      started_at: at.toISOString(),
      updated_at: null,
    });
    expect(rolloutToJson(create(RolloutSchema, { shareBasisPoints: 1 }))).toMatchObject({
      state: "unspecified",
      share_percent: 0.01,
      watch: null,
    });
  });
});

describe("the rollout paths' errors", () => {
  it("name a share by the field the body sent it in (share_percent when none), and a listing's page by its query names", () => {
    const sent = (f: string) => (name: string) => name === f;
    expect(ROLLOUT_ERRORS.field("share_basis_points", sent(""))).toBe("share_percent");
    expect(STEP_NAMES.field("share_basis_points", sent(""))).toBe("share_percent");
    expect(STEP_NAMES.field("share_basis_points", sent("share_basis_points"))).toBe("share_basis_points");
    expect(ROLLOUT_ERRORS.field("share_basis_points", sent("share_percent"))).toBe("share_percent");
    expect(ROLLOUT_ERRORS.field("share_basis_points", sent("share_basis_points"))).toBe("share_basis_points");
    expect(ROLLOUT_ERRORS.field("page_size", sent(""))).toBe("limit");
    expect(ROLLOUT_ERRORS.field("page_token", sent(""))).toBe("cursor");
    expect(ROLLOUT_ERRORS.field("content.agent_name", sent(""))).toBe("content.agent_name");
    expect(ROLLOUT_ERRORS.field("expected_version", sent(""))).toBe("expected_version");
    expect(ROLLOUT_ERRORS.field("bounds.thumbs_down", sent(""))).toBe("bounds.thumbs_down");
  });
});
