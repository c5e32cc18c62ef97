// Reading a request's fields alone: pure functions, no server. Each refusal
// is checked as AgentMail writes it: status, name and the field it names.
import { describe, expect, it } from "vitest";
import { ApiError } from "./errors.js";
import { addressList, bareAddress, outgoingMailOf, pageQueryOf, pageToken } from "./fields.js";

function refusal(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, ...err.body() };
    throw err;
  }
  throw new Error("not refused");
}

describe("addresses", () => {
  it("reads the bare address of a named one, lower-cased", () => {
    expect(bareAddress("Ada <Ada@Example.com> ")).toBe("ada@example.com");
    expect(bareAddress(" Bob@example.com")).toBe("bob@example.com");
  });

  it("takes one address or a list, names allowed, and refuses what is not an address, naming the field", () => {
    expect(addressList({ to: "a@example.com" }, "to")).toEqual(["a@example.com"]);
    expect(addressList({ to: ["Ada <a@example.com>", "b@example.com"] }, "to")).toHaveLength(2);
    expect(addressList({ cc: [] }, "cc")).toEqual([]);
    expect(refusal(() => addressList({}, "to", true))).toEqual({
      status: 400,
      name: "ValidationError",
      message: "to is required",
    });
    expect(refusal(() => addressList({ to: ["not an address"] }, "to")).message).toMatch(/^to must be email addresses/);
  });
});

describe("outgoingMailOf", () => {
  it("reads a mail to send: its recipients once each, bare, and its In-Reply-To header whatever its case", () => {
    const mail = outgoingMailOf({
      to: ["Ada <A@example.com>"],
      cc: "a@example.com",
      bcc: ["b@example.com"],
      subject: "hi",
      text: "hello",
      headers: { "IN-REPLY-TO": "<m1@agentmail.localhost>" },
    });
    expect(mail).toEqual({
      to: ["Ada <A@example.com>"],
      cc: ["a@example.com"],
      subject: "hi",
      text: "hello",
      html: undefined,
      recipients: ["a@example.com", "b@example.com"],
      inReplyTo: "<m1@agentmail.localhost>",
    });
  });

  it("refuses a mail without a body, with more than 50 recipients or headers that are not strings", () => {
    expect(refusal(() => outgoingMailOf({ to: "a@example.com" })).message).toBe("text or html is required");
    const many = Array.from({ length: 51 }, (_, i) => `p${i}@example.com`);
    expect(refusal(() => outgoingMailOf({ to: many, text: "x" })).message).toMatch(/^to may name at most 50/);
    expect(refusal(() => outgoingMailOf({ to: "a@example.com", text: "x", headers: { a: 1 } })).message).toBe(
      "headers must be an object of strings",
    );
  });
});

describe("pageQueryOf", () => {
  it("asks 20 from the start by default, and from where a page token says", () => {
    expect(pageQueryOf(new URLSearchParams())).toEqual({ limit: 20, start: 0, labels: [] });
    expect(pageQueryOf(new URLSearchParams({ limit: "5", page_token: pageToken(10), labels: "sent" }))).toEqual({
      limit: 5,
      start: 10,
      labels: ["sent"],
    });
  });

  it("refuses a limit outside 1 to 100 and a token it never gave", () => {
    expect(refusal(() => pageQueryOf(new URLSearchParams({ limit: "101" }))).message).toMatch(/^limit must be/);
    expect(refusal(() => pageQueryOf(new URLSearchParams({ page_token: "nope" }))).message).toMatch(/^page_token/);
  });
});
