// What a pushed release must carry (policy.ts), pure: releases are built
// here as the templates service pushes them, unsigned (the instances check
// the signature, never the pool). Over the wire, with the service's
// credentials: worker.int.test.ts, "TemplateSyncService".
import fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { RolloutAction } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { SignedTemplateSchema, TemplateChange } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { type RolloutPush, RolloutPushSchema } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import { contentFromJson, fieldViolations, MAX_TEMPLATE_LAYERS } from "@convos-pool/kit/content";
import { checkPush, checkRelease, checkRollout, MAX_RELEASE_VERSION, rolloutStepFields } from "./policy.js";

const release = (version = 2n, templateId = "tmpl_AAAAAAAAAAAAAAAA") =>
  create(SignedTemplateSchema, {
    templateId,
    creatorId: "b".repeat(64),
    version,
    change: TemplateChange.UPDATE,
    content: contentFromJson({
      agent_name: "Trip Planner",
      instructions: "You plan trips.",
      tools: [],
      description: "Plans trips",
      category: "travel",
      tags: [],
    }),
    creatorSignature: { signature: "0x01", issuedAt: 1n, nonce: "n" },
  });

/** The fields a refusal names; fails when it was accepted. */
function fields(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    return fieldViolations(err).map((v) => v.field);
  }
  throw new Error("it was accepted");
}

describe("a pushed release", () => {
  it("is stored with its bases as pushed", () => {
    const r = release(3n);
    const b = release(2n, "tmpl_BBBBBBBBBBBBBBBB");
    expect(checkPush({ template: r, bases: [b] })).toEqual({ release: r, bases: [b] });
  });

  it("has a version the instances table can hold, from 2 for an update", () => {
    expect(MAX_RELEASE_VERSION).toBe(2n ** 31n - 1n);
    fc.assert(
      fc.property(fc.bigInt({ min: 2n, max: MAX_RELEASE_VERSION }), (v) => {
        expect(checkRelease(release(v))).toBeDefined();
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ max: 0n }), fc.bigInt({ min: MAX_RELEASE_VERSION + 1n })), (v) => {
        expect(fields(() => checkRelease(release(v)))).toEqual(["template.version"]);
      }),
    );
  });

  it("has a base and a base's base at most, whatever they are", () => {
    expect(MAX_TEMPLATE_LAYERS).toBe(3);
    fc.assert(
      fc.property(fc.integer({ min: MAX_TEMPLATE_LAYERS, max: 8 }), (n) => {
        const bases = Array.from({ length: n }, () => release());
        expect(fields(() => checkPush({ template: release(), bases }))).toEqual(["bases"]);
      }),
    );
  });

  it("names the base at fault by its place", () => {
    const bad = { ...release(), templateId: "" };
    expect(fields(() => checkPush({ template: release(), bases: [release(), bad] }))).toEqual(["bases[1].template_id"]);
    expect(fields(() => checkPush({ bases: [] }))).toEqual(["template"]);
  });
});

const rollout = (over: Partial<RolloutPush> = {}): RolloutPush =>
  Object.assign(
    create(RolloutPushSchema, {
      rolloutId: "roll_1",
      baselineVersion: 2n,
      shareBasisPoints: 1000,
      step: 1,
      action: RolloutAction.START,
      boundsHash: `0x${"ab".repeat(32)}`,
      stepSignature: { signature: "0x01", issuedAt: 1n, nonce: "n" },
    }),
    over,
  );

describe("a pushed rollout", () => {
  it("is applied with the typed data of its step: the creator's, of the candidate, with the share and bounds pushed", () => {
    const r = checkRollout(rollout());
    expect(rolloutStepFields(release(3n), r)).toEqual({
      inboxId: "b".repeat(64),
      templateId: "tmpl_AAAAAAAAAAAAAAAA",
      version: 3n,
      action: RolloutAction.START,
      shareBasisPoints: 1000,
      boundsHash: `0x${"ab".repeat(32)}`,
    });
  });

  it("carries a running or paused rollout's step, a pause that pauses, and what its signature is over", () => {
    expect(checkRollout(rollout({ action: RolloutAction.PAUSE, paused: true })).paused).toBe(true);
    expect(checkRollout(rollout({ action: RolloutAction.WIDEN, paused: true })).paused).toBe(true);
    for (const action of [
      RolloutAction.UNSPECIFIED,
      RolloutAction.PROMOTE,
      RolloutAction.ROLL_BACK,
      RolloutAction.HALT,
    ])
      expect(fields(() => checkRollout(rollout({ action })))).toEqual(["rollout.action"]);
    expect(fields(() => checkRollout(rollout({ action: RolloutAction.PAUSE })))).toEqual(["rollout.paused"]);
    expect(fields(() => checkRollout(rollout({ action: RolloutAction.RESUME, paused: true })))).toEqual([
      "rollout.paused",
    ]);
    expect(
      fields(() =>
        checkRollout(
          rollout({ rolloutId: "", shareBasisPoints: 10_001, boundsHash: "0x12", stepSignature: undefined }),
        ),
      ),
    ).toEqual(["rollout.rollout_id", "rollout.share_basis_points", "rollout.bounds_hash", "rollout.step_signature"]);
  });
});
