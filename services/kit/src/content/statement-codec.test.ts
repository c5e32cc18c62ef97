// The pool's statement content type (docs/statement.md, "How it travels"):
// encoded and decoded in memory, as @xmtp/node-sdk calls a codec. Nothing
// stands in: the codec is pure.
import { describe, expect, it } from "vitest";
import {
  STATEMENT_CONTENT_TYPE,
  decodeStatement,
  encodeStatement,
  statementCodec,
  statementOf,
} from "./statement-codec.js";

const JWS = "eyJhbGciOiJFZERTQSJ9.eyJzZXF1ZW5jZSI6MX0.c2lnbmF0dXJl";
const WORDS = "What I may do here (statement 1, 2026-11-29):\n- Owner: Ana";

describe("the statement content type", () => {
  it("is the pool's own, convos-pool.org/statement:1.0", () => {
    expect(STATEMENT_CONTENT_TYPE).toEqual({
      authorityId: "convos-pool.org",
      typeId: "statement",
      versionMajor: 1,
      versionMinor: 0,
    });
    expect(statementCodec.contentType).toBe(STATEMENT_CONTENT_TYPE);
  });

  it("carries the signed statement in its content and the words in its fallback, which apps without the type show", () => {
    const encoded = encodeStatement({ jws: JWS, text: WORDS });
    expect(encoded.type).toEqual(STATEMENT_CONTENT_TYPE);
    expect(encoded.fallback).toBe(WORDS);
    expect(encoded.fallback).not.toContain(JWS.split(".")[2]);
    expect(JSON.parse(new TextDecoder().decode(encoded.content))).toEqual({ jws: JWS });
    expect(statementCodec.fallback({ jws: JWS, text: WORDS })).toBe(WORDS);
    expect(statementCodec.shouldPush()).toBe(true);
  });

  it("decodes what it encoded: the signed statement, and the words from the fallback", () => {
    expect(decodeStatement(encodeStatement({ jws: JWS, text: WORDS }))).toEqual({ jws: JWS, text: WORDS });
    // The SDK may hand the content without its fallback: the signed statement alone is still read.
    expect(decodeStatement({ content: encodeStatement({ jws: JWS, text: WORDS }).content })).toEqual({
      jws: JWS,
      text: "",
    });
  });

  it("decodes nothing from content that is not a signed statement", () => {
    const bytes = (s: string) => ({ content: new TextEncoder().encode(s) });
    expect(decodeStatement(bytes("not json"))).toBeUndefined();
    expect(decodeStatement(bytes(JSON.stringify({ jws: "a.b" })))).toBeUndefined();
    expect(decodeStatement(bytes(JSON.stringify({ jws: 7 })))).toBeUndefined();
    expect(decodeStatement(bytes(JSON.stringify([JWS])))).toBeUndefined();
  });

  it("reads a decoded message's statement only when it is of the type", () => {
    const content = { jws: JWS, text: WORDS };
    expect(statementOf({ contentType: STATEMENT_CONTENT_TYPE, content })).toEqual(content);
    expect(statementOf({ contentType: { authorityId: "xmtp.org", typeId: "text" }, content })).toBeUndefined();
    expect(statementOf({ contentType: STATEMENT_CONTENT_TYPE, content: undefined })).toBeUndefined();
    // What `convos conversation messages --json` or a dump of decoded messages holds: the fallback beside it.
    expect(statementOf({ contentType: STATEMENT_CONTENT_TYPE, content: { jws: JWS }, fallback: WORDS })).toEqual(
      content,
    );
  });
});
