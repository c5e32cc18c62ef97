// Signing a webhook alone: real ed25519 keys from node:crypto, no server.
import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { rawPublicKey, signedHeaders, webhookBody } from "./webhooks.js";

describe("a webhook's signature", () => {
  it("signs `<timestamp>|<body>` so that the raw public key, as Telnyx's portal shows it, verifies it", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const body = webhookBody({ id: "e1" }, 1, "http://host.example/sms");
    const headers = signedHeaders(body, 1_700_000_000, privateKey);
    expect(headers["telnyx-timestamp"]).toBe("1700000000");
    const raw = Buffer.from(rawPublicKey(publicKey), "base64");
    expect(raw).toHaveLength(32);
    const key = createPublicKey({
      key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw]),
      format: "der",
      type: "spki",
    });
    const signature = Buffer.from(headers["telnyx-signature-ed25519"]!, "base64");
    expect(verify(null, Buffer.from(`1700000000|${body}`), key, signature)).toBe(true);
    expect(verify(null, Buffer.from(`1700000001|${body}`), key, signature)).toBe(false);
  });

  it("carries the same event in every attempt, with the attempt's number", () => {
    expect(JSON.parse(webhookBody({ id: "e1" }, 2, "http://host.example/sms"))).toEqual({
      data: { id: "e1" },
      meta: { attempt: 2, delivered_to: "http://host.example/sms" },
    });
  });
});
