// Which models a template may name (policy.ts): pure, nothing stands in.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { fieldViolations } from "@convos-pool/kit/content";
import { checkServedModel, DEFAULT_SERVED_MODELS, parseServedModels } from "./policy.js";

const served = ["gpt-oss-20b", "gpt-oss-120b"];
const model = (name: string) => ({ default: name, allow_override: true });

function refusal(run: () => void) {
  try {
    run();
  } catch (err) {
    return fieldViolations(err)[0];
  }
  return undefined;
}

describe("the served models", () => {
  it("are gpt-oss-20b then gpt-oss-120b when POOL_MODELS is unset or empty", () => {
    expect(DEFAULT_SERVED_MODELS).toEqual(["gpt-oss-20b", "gpt-oss-120b"]);
    expect(parseServedModels(undefined)).toEqual(DEFAULT_SERVED_MODELS);
    expect(parseServedModels("  ")).toEqual(DEFAULT_SERVED_MODELS);
  });

  it("are POOL_MODELS in order, trimmed, each once", () => {
    expect(parseServedModels(" openai/gpt-4o-mini, llama3.1:8b ,openai/gpt-4o-mini,")).toEqual([
      "openai/gpt-4o-mini",
      "llama3.1:8b",
    ]);
  });

  it("refuse a malformed name, naming POOL_MODELS", () => {
    expect(() => parseServedModels("good, bad name")).toThrow(/POOL_MODELS: "bad name"/);
    expect(() => parseServedModels(",,")).toThrow(/POOL_MODELS names no model/);
  });
});

describe("a template's model", () => {
  it("passes when served, and when a template on a base names none", () => {
    expect(refusal(() => checkServedModel("content.model", model("gpt-oss-120b"), served))).toBeUndefined();
    expect(refusal(() => checkServedModel("content.model", undefined, served))).toBeUndefined();
  });

  it("is refused when not served, naming the field and the models that are", () => {
    const v = refusal(() => checkServedModel("content.model", model("no-such-model-xyz"), served));
    expect(v?.field).toBe("content.model.default");
    expect(v?.description).toBe(
      '"no-such-model-xyz" is not a model this pool serves: one of "gpt-oss-20b", "gpt-oss-120b"',
    );
  });

  it("may stay what the template had after the operators took it off the list, but not change to another unserved one", () => {
    expect(refusal(() => checkServedModel("patch.model", model("old-model"), served, "old-model"))).toBeUndefined();
    expect(refusal(() => checkServedModel("patch.model", model("other"), served, "old-model"))?.field).toBe(
      "patch.model.default",
    );
  });

  test.prop([fc.string({ maxLength: 40 }), fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 5 })])(
    "passes exactly when served or kept",
    (name, list) => {
      const passed = refusal(() => checkServedModel("m", model(name), list)) === undefined;
      expect(passed).toBe(list.includes(name));
    },
  );
});
