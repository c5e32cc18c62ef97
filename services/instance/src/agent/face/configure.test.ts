import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ToolCredentialSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { contentFromJson } from "@convos-pool/kit/content";
import { codeOf, sampleContent, tool } from "@convos-pool/kit/testing";
import { checkModel, checkToolsAllowed } from "./configure.js";

const content = (allowOverride: boolean) =>
  contentFromJson(
    sampleContent({
      model: { default: "gpt-oss-20b", allow_override: allowOverride },
      tools: [tool("sms", "pool"), tool("email", "pool"), tool("personal-email", "user"), tool("nickname", "user")],
    }),
  );
const given = (...ids: string[]) => ids.map((toolId) => create(ToolCredentialSchema, { toolId, handle: "h" }));
const code = (f: () => unknown) => codeOf(Promise.resolve().then(f));

describe("what a release allows at Configure", () => {
  it("the model: the default, or the owner's choice only where the template allows one", async () => {
    expect(checkModel(content(false), "", false)).toBe("gpt-oss-20b");
    expect(checkModel(content(false), "gpt-oss-20b", false)).toBe("gpt-oss-20b");
    expect(checkModel(content(true), "acme/mine", true)).toBe("acme/mine");
    expect(await code(() => checkModel(content(false), "acme/mine", true))).toBe("PermissionDenied");
    expect(await code(() => checkModel(content(true), "acme/mine", false))).toBe("PermissionDenied");
    expect(await code(() => checkModel(content(true), "", true))).toBe("InvalidArgument");
  });

  it("tools: only pool tools the template declares as the pool's, values only for tools it declares as the user's", async () => {
    expect(() =>
      checkToolsAllowed(content(true), given("sms", "email"), { "personal-email": "a@b.c", nickname: "T" }),
    ).not.toThrow();
    expect(() => checkToolsAllowed(content(true), [], {})).not.toThrow();
    expect(await code(() => checkToolsAllowed(content(true), given("sms", "crypto")))).toBe("PermissionDenied");
    expect(await code(() => checkToolsAllowed(content(true), given("personal-email")))).toBe("PermissionDenied");
    expect(await code(() => checkToolsAllowed(content(true), [], { sms: "+1555" }))).toBe("PermissionDenied");
    expect(await code(() => checkToolsAllowed(content(true), [], { colour: "blue" }))).toBe("PermissionDenied");
  });
});
