// The pure checks of what an owner's clone signature binds (clone/binding.ts):
// no signature here, only the authorization's fields against what an agent runs.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { CarriedConfigSchema } from "@convos-pool/gen/convos/pool/v1/clone_summary_pb.js";
import { CloneAuthorizationSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { contentFromJson } from "@convos-pool/kit/content";
import { sampleContent } from "@convos-pool/kit/testing";
import { checkCloneConfig, checkSignedTemplate, expectedCloneConfig } from "./binding.js";

const CREATOR = "c".repeat(64);
const OTHER = "d".repeat(64);
const running = { templateId: "tmpl_TRIP000000000000", creatorId: CREATOR };
const open = contentFromJson(sampleContent());
const fixed = contentFromJson(sampleContent({ model: { default: "gpt-oss-20b", allow_override: false } }));
const none = { model: "", userConfig: {} };

const refusal = (run: () => void): ConnectError => {
  try {
    run();
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("accepted");
};

describe("checkSignedTemplate", () => {
  const auth = (over = {}) =>
    create(CloneAuthorizationSchema, { templateId: running.templateId, templateCreatorId: CREATOR, ...over });

  it("accepts the template and creator the agent runs", () => {
    expect(() => checkSignedTemplate(auth(), running, "this agent")).not.toThrow();
  });

  it("refuses another template, another creator and a signature that names none, naming the field", () => {
    for (const [over, field] of [
      [{ templateId: "tmpl_OTHER00000000000" }, "authorization.template_id"],
      [{ templateCreatorId: OTHER }, "authorization.template_creator_id"],
      [{ templateId: "" }, "authorization.template_id"],
      [{ templateCreatorId: "" }, "authorization.template_creator_id"],
    ] as const) {
      const err = refusal(() => checkSignedTemplate(auth(over), running, "this agent"));
      expect(err.code).toBe(Code.PermissionDenied);
      expect(err.rawMessage).toContain(field);
    }
  });
});

describe("expectedCloneConfig: the claims service's rule for a clone", () => {
  it("is the template's default model and no values when neither the owner nor the parent gives any", () => {
    expect(expectedCloneConfig(open, none, none)).toEqual({ model: "gpt-oss-20b", userConfig: {} });
  });

  it("carries the parent's chosen model while the template allows a choice, and its values the template asks for", () => {
    const parent = { model: "acme/parent", userConfig: { "personal-email": "p@b.c", gone: "x" } };
    expect(expectedCloneConfig(open, parent, none)).toEqual({
      model: "acme/parent",
      userConfig: { "personal-email": "p@b.c" },
    });
    expect(expectedCloneConfig(fixed, parent, none).model).toBe("gpt-oss-20b");
  });

  it("takes what the owner asked for over the parent's, trimmed, an emptied value left out", () => {
    const parent = { model: "acme/parent", userConfig: { "personal-email": "p@b.c" } };
    expect(
      expectedCloneConfig(open, parent, { model: "acme/asked", userConfig: { "personal-email": " a@b.c " } }),
    ).toEqual({ model: "acme/asked", userConfig: { "personal-email": "a@b.c" } });
    expect(expectedCloneConfig(open, parent, { model: "", userConfig: { "personal-email": "  " } }).userConfig).toEqual(
      {},
    );
  });
});

describe("checkCloneConfig", () => {
  const auth = create(CloneAuthorizationSchema, { model: "", userConfig: {} });
  const carried = create(CarriedConfigSchema, { model: "acme/parent", userConfig: { "personal-email": "p@b.c" } });

  it("accepts the configuration the owner's clone and the parent's carried values make", () => {
    expect(() =>
      checkCloneConfig(auth, carried, open, { model: "acme/parent", userConfig: { "personal-email": "p@b.c" } }),
    ).not.toThrow();
  });

  it("refuses another model or other values, naming the field and the keys, never a value", () => {
    const model = refusal(() =>
      checkCloneConfig(auth, carried, open, { model: "acme/other", userConfig: { "personal-email": "p@b.c" } }),
    );
    expect(model.code).toBe(Code.PermissionDenied);
    expect(model.rawMessage).toContain("authorization.model");
    const values = refusal(() =>
      checkCloneConfig(auth, carried, open, {
        model: "acme/parent",
        userConfig: { "personal-email": "x@evil.example" },
      }),
    );
    expect(values.code).toBe(Code.PermissionDenied);
    expect(values.rawMessage).toContain("authorization.user_config");
    expect(values.rawMessage).toContain("personal-email");
    expect(values.rawMessage).not.toContain("evil.example");
    expect(values.rawMessage).not.toContain("p@b.c");
  });

  it("refuses the parent's values when no parent's values came with the summary", () => {
    const err = refusal(() =>
      checkCloneConfig(auth, undefined, open, { model: "gpt-oss-20b", userConfig: { "personal-email": "p@b.c" } }),
    );
    expect(err.rawMessage).toContain("authorization.user_config");
  });
});
