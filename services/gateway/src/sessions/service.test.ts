import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  MIN_SESSION_SECRET_BYTES,
  SESSION_TTL_SECONDS,
  SessionTokens,
  checkSignInPlace,
  originsOf,
} from "./service.js";

const INBOX = "a".repeat(64);

function code(fn: () => unknown): Code | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

/** A secret long enough (MIN_SESSION_SECRET_BYTES), told apart by `name`. */
const key = (name: string) => name.padEnd(MIN_SESSION_SECRET_BYTES, ".");

describe("SessionTokens", () => {
  it("refuses a secret shorter than 32 bytes, naming the variable", () => {
    expect(() => new SessionTokens("x".repeat(MIN_SESSION_SECRET_BYTES - 1))).toThrow(
      /POOL_SESSION_SECRET must be at least 32 bytes/,
    );
    expect(() => new SessionTokens("")).toThrow(/POOL_SESSION_SECRET/);
    expect(() => new SessionTokens("x".repeat(MIN_SESSION_SECRET_BYTES))).not.toThrow();
  });

  it("issues a token for an hour and reads the inbox back", () => {
    let now = 1_800_000_000_000;
    const tokens = new SessionTokens(key("a session secret of some length"), undefined, () => now);
    const s = tokens.issue(INBOX);
    expect(s.expiresAt.getTime()).toBe(now + SESSION_TTL_SECONDS * 1000);
    expect(tokens.verify(s.token)).toEqual({ inboxId: INBOX, id: s.id, expiresAt: s.expiresAt });
    expect(tokens.sessionOf(`Bearer ${s.token}`)?.inboxId).toBe(INBOX);
    expect(tokens.sessionOf(`bearer   ${s.token}`)?.id).toBe(s.id);
    // Each session its own id: what signing out records.
    expect(tokens.issue(INBOX).id).not.toBe(s.id);
    expect(tokens.sessionOf(null)).toBeUndefined();
    expect(tokens.sessionOf("")).toBeUndefined();

    now += SESSION_TTL_SECONDS * 1000 - 1;
    expect(tokens.verify(s.token).inboxId).toBe(INBOX);
    now += 1;
    expect(code(() => tokens.verify(s.token))).toBe(Code.Unauthenticated);
  });

  it("refuses tokens of another secret, tampered tokens and other schemes", () => {
    const a = new SessionTokens(key("secret one"));
    const b = new SessionTokens(key("secret two"));
    const token = a.issue(INBOX).token;
    expect(code(() => b.verify(token))).toBe(Code.Unauthenticated);
    expect(code(() => a.verify(token.replace(INBOX, "b".repeat(64))))).toBe(Code.Unauthenticated);
    expect(code(() => a.verify(`${token}x`))).toBe(Code.Unauthenticated);
    expect(code(() => a.sessionOf(`Basic ${token}`))).toBe(Code.Unauthenticated);
    expect(code(() => a.sessionOf("Bearer"))).toBe(Code.Unauthenticated);
    // Another session's id under this MAC, and the tokens of before sessions could end (v1).
    const other = a.issue(INBOX);
    expect(code(() => a.verify(token.replace(/\.[A-Za-z0-9_-]{22}\./, `.${other.id}.`)))).toBe(Code.Unauthenticated);
    const [, inbox, exp, , mac] = token.split(".");
    expect(code(() => a.verify(`v1.${inbox}.${exp}.${mac}`))).toBe(Code.Unauthenticated);
  });

  it("survives a restart only with a configured secret", () => {
    const token = new SessionTokens(key("configured")).issue(INBOX).token;
    expect(new SessionTokens(key("configured")).verify(token).inboxId).toBe(INBOX);
    const random = new SessionTokens(undefined).issue(INBOX).token;
    expect(code(() => new SessionTokens(undefined).verify(random))).toBe(Code.Unauthenticated);
  });

  it("does not put the token in error messages", () => {
    const tokens = new SessionTokens(key("s"));
    const token = tokens.issue(INBOX).token;
    try {
      new SessionTokens(key("t")).verify(token);
    } catch (err) {
      expect(String((err as Error).message)).not.toContain(token);
    }
  });
});

describe("where a sign-in was made for (checkSignInPlace)", () => {
  const mine = originsOf(["https://pool.example/", "http://127.0.0.1:8080"]);
  const said = (fn: () => unknown): [string, string] | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      const e = ConnectError.from(err);
      return [Code[e.code], e.rawMessage];
    }
  };

  it("writes each public URL as its origin, and refuses one that is not http(s)", () => {
    expect(mine).toEqual(["https://pool.example", "http://127.0.0.1:8080"]);
    expect(originsOf(["HTTPS://Pool.Example:443/x", "https://pool.example"])).toEqual(["https://pool.example"]);
    expect(() => originsOf(["ftp://pool.example"])).toThrow(/"ftp:\/\/pool.example" is not an http\(s\) URL/);
    expect(() => originsOf(["pool.example"])).toThrow(/is not a URL/);
  });

  it("takes a signed origin of its own with a uri under it, from a browser on that origin or from no browser", () => {
    const place = { origin: "https://pool.example", uri: "https://pool.example/" };
    expect(said(() => checkSignInPlace(mine, place, undefined))).toBeUndefined();
    expect(said(() => checkSignInPlace(mine, place, "https://pool.example"))).toBeUndefined();
    const deeper = { origin: "http://127.0.0.1:8080", uri: "http://127.0.0.1:8080/api/pool" };
    expect(said(() => checkSignInPlace(mine, deeper, null))).toBeUndefined();
  });

  it("refuses another origin, a uri elsewhere and a browser elsewhere: UNAUTHENTICATED naming the field", () => {
    const look = { origin: "https://pool.example.evil", uri: "https://pool.example.evil/" };
    expect(said(() => checkSignInPlace(mine, look, undefined))).toEqual([
      "Unauthenticated",
      "origin: the sign-in was made for https://pool.example.evil, not for this pool's gateway; sign in here",
    ]);
    expect(
      said(() => checkSignInPlace(mine, { origin: "https://pool.example", uri: "https://evil.example/" }, null)),
    ).toEqual(["Unauthenticated", "uri: https://evil.example/ is not under the signed origin https://pool.example"]);
    const place = { origin: "https://pool.example", uri: "https://pool.example/" };
    expect(said(() => checkSignInPlace(mine, place, "https://evil.example"))).toEqual([
      "Unauthenticated",
      "origin: the sign-in names https://pool.example but was sent from https://evil.example",
    ]);
  });

  it("refuses an origin that is not written as one (a path, a capital, nothing): INVALID_ARGUMENT", () => {
    for (const origin of ["https://pool.example/", "HTTPS://pool.example", "", "null", "pool.example"]) {
      expect(said(() => checkSignInPlace(mine, { origin, uri: "https://pool.example/" }, undefined))?.[0], origin).toBe(
        "InvalidArgument",
      );
    }
    expect(said(() => checkSignInPlace(mine, { origin: "https://pool.example", uri: "" }, undefined))?.[0]).toBe(
      "InvalidArgument",
    );
  });
});
