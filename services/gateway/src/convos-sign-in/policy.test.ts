// Sign in with Convos, the pure part (policy.ts): codes, how a sent text is
// read, what an arriving code does and what a collect answers. No database,
// no XMTP; fast-check walks every code and sender.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CODE_ALPHABET,
  CODE_LENGTH,
  CODE_TTL_SECONDS,
  COLLECT_TTL_SECONDS,
  codeFrom,
  formatCode,
  onArrival,
  onCollect,
  readCode,
  readJoinRequest,
  replyTo,
  type PendingSignIn,
} from "./policy.js";

const bytes = fc.uint8Array({ minLength: CODE_LENGTH, maxLength: CODE_LENGTH });
const inbox = fc.stringMatching(/^[0-9a-f]{64}$/);
const NOW = new Date("2026-11-27T12:00:00Z");
const later = (s: number) => new Date(NOW.getTime() + s * 1000);
const pending = (p: Partial<PendingSignIn> = {}): PendingSignIn => ({
  origin: "https://pool.example",
  expiresAt: later(CODE_TTL_SECONDS),
  senderInboxId: null,
  sentAt: null,
  collectedAt: null,
  ...p,
});

describe("codes", () => {
  it("are ten characters of Crockford's base 32, 50 bits, five minutes long: the constants the docs name", () => {
    expect(CODE_ALPHABET).toHaveLength(32);
    expect(CODE_LENGTH).toBe(10);
    expect(CODE_TTL_SECONDS).toBe(300);
    expect(COLLECT_TTL_SECONDS).toBe(120);
  });

  it("every code drawn reads back as itself, shown with a dash, in lower case or with spaces", () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const code = codeFrom(b);
        expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{10}$/);
        expect(readCode(code)).toBe(code);
        expect(readCode(formatCode(code))).toBe(code);
        expect(readCode(` ${formatCode(code).toLowerCase()} `)).toBe(code);
      }),
    );
  });

  it("each character of the alphabet is drawn from exactly eight byte values: none is favoured", () => {
    const counts = new Map<string, number>();
    for (let b = 0; b < 256; b++) {
      const c = codeFrom(new Uint8Array(CODE_LENGTH).fill(b))[0] as string;
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual(new Array(32).fill(8));
  });

  it("look-alikes read as the digits they stand for; anything else of the wrong length or letters is no code", () => {
    expect(readCode("OIL23-45678")).toBe("0112345678");
    expect(readCode("ABCDE-FGHJ")).toBeUndefined();
    expect(readCode("ABCDE-FGHJKM")).toBeUndefined();
    expect(readCode("UUUUU-UUUUU")).toBeUndefined();
    expect(readCode("hello")).toBeUndefined();
    // Ten letters of the alphabet are a code to read (a wrong one, answered as such), whatever they meant.
    expect(readCode("hello there")).toBe("HE110THERE");
    expect(readCode("https://popup.convos.org/v2?i=abc")).toBeUndefined();
  });

  it("a draw needs ten random bytes", () => {
    expect(() => codeFrom(new Uint8Array(9))).toThrow(/10 random bytes/);
  });
});

describe("a code that arrives", () => {
  it("goes to the first inbox that sends it while it lives; the same inbox again changes nothing; anyone after is refused", () => {
    fc.assert(
      fc.property(inbox, inbox, (first, second) => {
        fc.pre(first !== second);
        expect(onArrival(pending(), first, NOW)).toEqual({ kind: "claim", origin: "https://pool.example" });
        const sent = pending({ senderInboxId: first, sentAt: NOW });
        expect(onArrival(sent, first, NOW).kind).toBe("again");
        expect(onArrival(sent, second, NOW).kind).toBe("taken");
      }),
    );
  });

  it("after its expiry, or unknown, it signs nobody in", () => {
    expect(onArrival(pending({ expiresAt: NOW }), "a".repeat(64), NOW).kind).toBe("expired");
    expect(onArrival(undefined, "a".repeat(64), NOW).kind).toBe("unknown");
  });

  it("is answered with the origin of the site that asked, so that a person sent there by another page can see it", () => {
    const reply = replyTo({ kind: "claim", origin: "https://pool.example" }, "ABCDE12345");
    expect(reply).toMatch(
      /^You are signing in to https:\/\/pool\.example with this Convos identity \(code ABCDE-12345\)/,
    );
    expect(reply).toMatch(
      /If you did not ask for this code on https:\/\/pool\.example yourself, whoever did is now signed in as you/,
    );
    expect(replyTo({ kind: "again", origin: "https://pool.example" }, "ABCDE12345")).toBeUndefined();
    expect(replyTo({ kind: "taken" }, "ABCDE12345")).toMatch(/already sent from another Convos identity/);
    expect(replyTo({ kind: "expired" }, "ABCDE12345")).toMatch(/has expired/);
    expect(replyTo({ kind: "unknown" }, "ABCDE12345")).toMatch(/not one this pool is waiting for/);
  });
});

describe("a collect (its secret matched)", () => {
  const who = "b".repeat(64);

  it("waits while nobody has sent the code, and is refused once the code expired unsent", () => {
    expect(onCollect(pending(), NOW)).toEqual({ kind: "waiting" });
    expect(onCollect(pending({ expiresAt: NOW }), NOW)).toEqual({ kind: "expired", at: NOW });
  });

  it("issues the session of the inbox that sent the code, within two minutes of its sending, once", () => {
    const sent = pending({ senderInboxId: who, sentAt: NOW });
    expect(onCollect(sent, later(COLLECT_TTL_SECONDS - 1))).toEqual({ kind: "issue", inboxId: who });
    expect(onCollect(sent, later(COLLECT_TTL_SECONDS)).kind).toBe("expired");
    expect(onCollect({ ...sent, collectedAt: NOW }, NOW)).toEqual({ kind: "used" });
  });
});

describe("a join request's code and name", () => {
  const code = "0123456789";
  it("reads the slug it carries and the name of the profile it gives, cleaned to one line", () => {
    expect(readJoinRequest({ inviteSlug: "slug", profile: { name: "Saul\n\nSigned in: yes" } })).toEqual({
      text: "slug",
      name: "Saul Signed in yes",
    });
    expect(readJoinRequest({ inviteSlug: code })).toEqual({ text: code, name: "" });
    expect(readJoinRequest({ inviteSlug: code, profile: { name: 7 } })).toEqual({ text: code, name: "" });
  });

  it("reads nothing from what is not one", () => {
    for (const content of [undefined, null, "0123456789", { profile: { name: "Saul" } }, { inviteSlug: 5 }])
      expect(readJoinRequest(content)).toBeUndefined();
  });
});
