// AgentMail's JSON for the stand-in's mail: pure functions, no server.
import { describe, expect, it } from "vitest";
import { pageQueryOf } from "./fields.js";
import { extractedText, messageOf, pageOf, preview, summary } from "./messages.js";

const at = "2026-01-01T00:00:00.000Z";
const mail = { from: "a@example.com", to: ["b@example.com"], cc: [], subject: "hi" };

describe("a message's text", () => {
  it("extracts a reply's new text, without the quoted mail and its `On ... wrote:` line", () => {
    expect(extractedText("Thanks!\n\nOn Mon, Ada wrote:\n> hello\n>\n")).toBe("Thanks!");
    expect(extractedText("no quote here")).toBe("no quote here");
    expect(extractedText("> only a quote")).toBe("> only a quote");
  });

  it("previews the first 200 characters of the text, or of the html without its tags, white space collapsed", () => {
    expect(preview({ text: "a  b\n\nc" })).toBe("a b c");
    expect(preview({ html: "<p>Hello <b>you</b></p>" })).toBe("Hello you");
    expect(preview({ text: "x".repeat(300) })).toHaveLength(200);
  });
});

describe("messageOf", () => {
  it("keeps a message's bodies, its extracted text and the message it answers, and sizes it in bytes", () => {
    const m = messageOf("b@example.com", "t1", "<m2@x>", ["received"], { ...mail, text: "é", inReplyTo: "<m1@x>" }, at);
    expect(m).toMatchObject({ text: "é", extracted_text: "é", in_reply_to: "<m1@x>", size: 4, labels: ["received"] });
    expect(m).not.toHaveProperty("html");
    expect(summary(m)).not.toHaveProperty("text");
    expect(summary(m)).not.toHaveProperty("in_reply_to");
  });
});

describe("pageOf", () => {
  const messages = Array.from({ length: 5 }, (_, i) =>
    messageOf("b@example.com", "t", `<m${i}@x>`, i % 2 ? ["sent"] : ["received"], { ...mail, text: "x" }, at),
  );

  it("lists newest first, in pages with a token to the next, and by label", () => {
    const first = pageOf(messages, pageQueryOf(new URLSearchParams({ limit: "2" })));
    expect(first.messages.map((m) => m.message_id)).toEqual(["<m4@x>", "<m3@x>"]);
    const next = pageOf(messages, pageQueryOf(new URLSearchParams({ limit: "2", page_token: first.next_page_token! })));
    expect(next.messages.map((m) => m.message_id)).toEqual(["<m2@x>", "<m1@x>"]);
    const last = pageOf(messages, pageQueryOf(new URLSearchParams({ limit: "2", labels: "received" })));
    expect(last).toMatchObject({ count: 2, limit: 2 });
    expect(last.messages.map((m) => m.message_id)).toEqual(["<m4@x>", "<m2@x>"]);
    expect(pageOf(messages, pageQueryOf(new URLSearchParams({ limit: "5" })))).not.toHaveProperty("next_page_token");
  });
});
