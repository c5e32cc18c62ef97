// The signature object of a REST body (signature-json.ts) as plain calls: a
// body read by the JSON reader, no server.

import { describe, expect, it } from "vitest";
import type { RestError } from "./errors.js";
import { JsonObject } from "./json.js";
import { signatureOf } from "./signature-json.js";

const read = (signature: unknown) => signatureOf(JsonObject.body({ signature }, ["signature"]));

describe("signatureOf", () => {
  it("passes on any issued_at JSON's safe integers hold, so the service's window is the one rule both faces meet", () => {
    for (const at of [0, -1, 1_700_000_000, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      expect(read({ signature: "0x", issued_at: at, nonce: "0x" })?.issuedAt).toBe(BigInt(at));
    }
    expect(read(undefined)).toBeUndefined();
  });

  it("refuses what no int64 from JSON carries, naming the field", () => {
    for (const at of [1.5, "7", 2 ** 60]) {
      let err: unknown;
      try {
        read({ signature: "0x", issued_at: at, nonce: "0x" });
      } catch (e) {
        err = e;
      }
      expect((err as RestError).field, String(at)).toBe("signature.issued_at");
    }
  });
});
