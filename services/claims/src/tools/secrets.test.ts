// What a host is given of a tool's secrets (secrets.ts secretsForHost): a
// wallet's key never, every other tool's secrets whole.
import { describe, expect, it } from "vitest";
import { secretsForHost } from "./secrets.js";

describe("a tool's secrets as a host is given them", () => {
  it("keeps a wallet's key here, and gives a mailbox its password and an inbox its key", () => {
    expect(secretsForHost("crypto", { private_key: "0xabc" })).toEqual({});
    expect(secretsForHost("email", { password: "hunter2" })).toEqual({ password: "hunter2" });
    expect(secretsForHost("email", { api_key: "am_1" })).toEqual({ api_key: "am_1" });
    expect(secretsForHost("sms", {})).toEqual({});
  });

  it("returns a copy: the sealed secrets it was given are not changed", () => {
    const secrets = { private_key: "0xabc" };
    secretsForHost("crypto", secrets);
    expect(secrets).toEqual({ private_key: "0xabc" });
  });
});
