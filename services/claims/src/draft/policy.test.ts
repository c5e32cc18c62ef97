// What a test chat may ask (policy.ts): each refusal names its field.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { DraftLineSchema } from "@convos-pool/gen/convos/pool/v1/draft_chat_pb.js";
import { contentFromJson, fieldViolations } from "@convos-pool/kit/content";
import { sampleContent } from "@convos-pool/kit/testing";
import { DRAFT_ANSWERS, MAX_LINES, checkTryDraft } from "./policy.js";

const content = contentFromJson(sampleContent());
const line = (text: string, fromAgent = false) => create(DraftLineSchema, { text, fromAgent });
const fieldOf = (req: Parameters<typeof checkTryDraft>[0]) => {
  try {
    checkTryDraft(req);
  } catch (err) {
    const e = ConnectError.from(err);
    expect(e.code).toBe(Code.InvalidArgument);
    return fieldViolations(e).map((v) => v.field);
  }
  return [];
};

describe("checkTryDraft", () => {
  it("takes a draft and a chat that ends with the creator's line", () => {
    expect(fieldOf({ templateId: "", content, lines: [line("Hi"), line("Hello", true), line("Where to?")] })).toEqual(
      [],
    );
  });

  it("refuses what it cannot answer, naming the field", () => {
    expect(fieldOf({ templateId: "nope", content, lines: [line("Hi")] })).toEqual(["template_id"]);
    expect(fieldOf({ templateId: "", lines: [line("Hi")] })).toEqual(["content"]);
    expect(fieldOf({ templateId: "", content: { ...content, agentName: "" }, lines: [line("Hi")] })).toEqual([
      "content.agent_name",
    ]);
    expect(fieldOf({ templateId: "", content, lines: [] })).toEqual(["lines"]);
    expect(
      fieldOf({ templateId: "", content, lines: Array.from({ length: MAX_LINES + 1 }, () => line("Hi")) }),
    ).toEqual(["lines"]);
    expect(fieldOf({ templateId: "", content, lines: [line("Hi"), line(" ")] })).toEqual(["lines[1].text"]);
    expect(fieldOf({ templateId: "", content, lines: [line("Hi"), line("Hello", true)] })).toEqual(["lines"]);
  });

  it("gives a creator 30 answers in 10 minutes", () => {
    expect(DRAFT_ANSWERS).toEqual({ points: 30, seconds: 600 });
  });
});
