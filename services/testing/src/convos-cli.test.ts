// How the harness reads the Convos CLI's events (convos-cli.ts readEvent):
// the lines are shaped as `convos agent serve` 0.10.15 prints them (its
// normalizeMessageContent for replies); no CLI runs here.
import { describe, expect, it } from "vitest";
import { readEvent } from "./convos-cli.js";

const ID = "ab12".padEnd(64, "0");
const reply = (content: string) => ({
  event: "message",
  id: "m2",
  senderInboxId: "agent",
  contentType: { authorityId: "xmtp.org", typeId: "reply", versionMajor: 1, versionMinor: 0 },
  content,
});

describe("readEvent", () => {
  it("reads a reply's own text, the id it replies to, and keeps what the CLI printed", () => {
    const printed = `reply to "Concierge, what should I pack?" (${ID}): Bring:\n- a tent\n- a stove`;
    expect(readEvent(reply(printed))).toMatchObject({
      content: "Bring:\n- a tent\n- a stove",
      replyTo: ID,
      printed,
    });
  });

  it("reads a reply whose quoted message the CLI did not have", () => {
    expect(readEvent(reply(`reply to ${ID}: yes`))).toMatchObject({ content: "yes", replyTo: ID });
  });

  it("reads a reply to a reply: the quote is the inner reply as printed, and the text is the outer one's", () => {
    const inner = `reply to ${"cd".padEnd(64, "0")}: Saul, may I do this?`;
    expect(readEvent(reply(`reply to "${inner}" (${ID}): no`))).toMatchObject({ content: "no", replyTo: ID });
  });

  it("keeps every other event as printed", () => {
    const text = { ...reply("reply to nothing"), contentType: { authorityId: "xmtp.org", typeId: "text" } };
    expect(readEvent(text)).toBe(text);
    const thinking = { event: "thinking", state: "start", targetMessageId: ID, content: "Working on an answer" };
    expect(readEvent(thinking)).toBe(thinking);
  });
});
