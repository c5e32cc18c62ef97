// What of the owner's messages in their direct conversation may answer a
// question (direct.ts ownerAnswerOf), as the SDK decodes them: a text reply,
// a reaction added, a tap; a plain text, a reaction taken back, another
// content type answer nothing.
import { describe, expect, it } from "vitest";
import type { AgentMessage } from "../../platform/xmtp.js";
import { ownerAnswerOf } from "./direct.js";

const message = (typeId: string, content: unknown, authorityId = "xmtp.org") =>
  ({
    id: "m1",
    senderInboxId: "owner",
    conversationId: "dm",
    contentType: { authorityId, typeId, versionMajor: 1, versionMinor: 0 },
    content,
  }) as unknown as AgentMessage;

describe("the owner's message in their direct conversation", () => {
  it("answers by a reply to the question, a reaction added on it, or a tap on its buttons", () => {
    expect(ownerAnswerOf(message("reply", { referenceId: "q1", content: "yes" }))).toEqual({
      kind: "reply",
      to: "q1",
      text: "yes",
    });
    expect(ownerAnswerOf(message("reaction", { reference: "q1", action: 1, content: "👍" }))).toEqual({
      kind: "reaction",
      to: "q1",
      emoji: "👍",
    });
    expect(ownerAnswerOf(message("intent", { id: "q1", actionId: "approve:q1" }, "coinbase.com"))).toEqual({
      kind: "tap",
      buttons: "q1",
      action: "approve:q1",
    });
  });

  it("answers nothing as a plain text, a reaction taken back, or anything else", () => {
    expect(ownerAnswerOf(message("text", "yes"))).toBeUndefined();
    expect(ownerAnswerOf(message("reaction", { reference: "q1", action: 2, content: "👍" }))).toBeUndefined();
    expect(ownerAnswerOf(message("actions", { id: "q1", actions: [] }, "coinbase.com"))).toBeUndefined();
    expect(ownerAnswerOf(message("reply", { referenceId: "q1", content: { not: "text" } }))).toBeUndefined();
  });
});
