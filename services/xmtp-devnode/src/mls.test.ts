import { describe, expect, it } from "vitest";
import { keyPackageInstallationKey, MlsFramingError, parseGroupMessage } from "./mls.js";
import { mlsKeyPackage, mlsPrivateMessage, mlsPublicMessage, quicVarint } from "../test/fixtures.js";

describe("QUIC variable-length integers as MLS writes them", () => {
  it("uses 1, 2 or 4 bytes", () => {
    expect([...quicVarint(0)]).toEqual([0x00]);
    expect([...quicVarint(63)]).toEqual([0x3f]);
    expect([...quicVarint(64)]).toEqual([0x40, 0x40]);
    expect([...quicVarint(16383)]).toEqual([0x7f, 0xff]);
    expect([...quicVarint(16384)]).toEqual([0x80, 0x00, 0x40, 0x00]);
  });
});

describe("parseGroupMessage: the group id in the MLS framing", () => {
  for (const size of [1, 16, 32, 63, 64, 300, 16383, 16384, 70000]) {
    it(`reads a ${size}-byte group id of a private message`, () => {
      const groupId = Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff);
      const parsed = parseGroupMessage(mlsPrivateMessage(groupId, { epoch: 5n, contentType: 1 }));
      expect(Buffer.from(parsed.groupId).equals(Buffer.from(groupId))).toBe(true);
      expect(parsed.epoch).toBe(5n);
      expect(parsed.isCommit).toBe(false);
    });
  }

  it("tells commits from application messages and proposals", () => {
    const g = Buffer.from("0123456789abcdef");
    expect(parseGroupMessage(mlsPrivateMessage(g, { contentType: 3 })).isCommit).toBe(true);
    expect(parseGroupMessage(mlsPrivateMessage(g, { contentType: 2 })).isCommit).toBe(false);
    expect(parseGroupMessage(mlsPublicMessage(g, { contentType: 3, senderType: 1 })).isCommit).toBe(true);
  });

  it("reads a public message's content type after its sender and authenticated data", () => {
    const g = Buffer.from("group-public");
    for (const senderType of [1, 2, 3, 4]) {
      const parsed = parseGroupMessage(
        mlsPublicMessage(g, { contentType: 2, senderType, authenticatedData: Buffer.alloc(100, 1), epoch: 2n ** 40n }),
      );
      expect(Buffer.from(parsed.groupId).toString()).toBe("group-public");
      expect(parsed.contentType).toBe(2);
      expect(parsed.epoch).toBe(2n ** 40n);
    }
  });

  it("rejects what is not a group message", () => {
    const g = Buffer.from("g");
    const bad: [string, Uint8Array][] = [
      ["empty", new Uint8Array(0)],
      ["truncated header", Uint8Array.from([0, 1, 0])],
      ["MLS version 2", Uint8Array.from([0, 2, 0, 2, 1, 0x61])],
      ["a welcome", Uint8Array.from([0, 1, 0, 3, 1, 0x61])],
      ["a key package", Uint8Array.from([0, 1, 0, 5, 1, 0x61])],
      ["length prefix 11", Uint8Array.from([0, 1, 0, 2, 0xc0, 0, 0, 0, 0, 0, 0, 1])],
      ["group id longer than the message", Uint8Array.from([0, 1, 0, 2, 0x05, 1, 2])],
      ["empty group id", Uint8Array.from([0, 1, 0, 2, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 1])],
      ["no epoch", Uint8Array.from([0, 1, 0, 2, 0x01, 0x61, 0, 0])],
      ["unknown content type", mlsPrivateMessage(g, { contentType: 9 })],
      ["unknown sender type", mlsPublicMessage(g, { contentType: 1, senderType: 7 })],
    ];
    for (const [what, bytes] of bad) {
      expect(() => parseGroupMessage(bytes), what).toThrow(MlsFramingError);
    }
  });
});

describe("keyPackageInstallationKey", () => {
  it("is the leaf node's signature key", () => {
    const key = Buffer.alloc(32, 0xab);
    expect(Buffer.from(keyPackageInstallationKey(mlsKeyPackage(key))).equals(key)).toBe(true);
  });

  it("rejects a truncated key package", () => {
    const kp = mlsKeyPackage(Buffer.alloc(32, 1));
    expect(() => keyPackageInstallationKey(kp.subarray(0, 40))).toThrow(MlsFramingError);
    expect(() => keyPackageInstallationKey(Uint8Array.from([0, 2, 0, 1]))).toThrow(MlsFramingError);
  });
});
