import { generateKeyPairSync, sign } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { startLocalSms, type LocalSms } from "@convos-pool/local-providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@convos-pool/testing/wait";
import { isE164, SmsError, TelnyxClient, verifyTelnyxWebhook, WebhookError } from "./telnyx.js";

interface Hook {
  headers: IncomingHttpHeaders;
  body: string;
}

let sms: LocalSms;
let client: TelnyxClient;
let webhookUrl: string;
const hooks: Hook[] = [];
let closeHooks: () => Promise<void>;

beforeAll(async () => {
  sms = await startLocalSms();
  client = new TelnyxClient({ baseUrl: sms.url, apiKey: sms.apiKey });
  // The agent host's webhook endpoint.
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      hooks.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`;
  closeHooks = () => new Promise((resolve) => server.close(() => resolve()));
});

afterAll(async () => {
  await sms?.close();
  await closeHooks?.();
});

async function nextHook(): Promise<Hook> {
  await waitFor("a webhook", () => hooks.length > 0);
  return hooks.shift()!;
}

/** A webhook as it arrives, from a phone's text to an agent's number. */
async function inboundHook(text: string): Promise<Hook> {
  const agent = "+15550100301";
  await client.assignNumber(agent, await client.ensureMessagingProfile("pool-webhooks", webhookUrl));
  await sms.phone("+15557770301").send(agent, text);
  return nextHook();
}

describe("the Telnyx client, against the local stand-in", () => {
  it("sends a text from an agent's number to a phone, and takes a phone's text in through the verified webhook", async () => {
    const agent = "+15550100201";
    const saul = sms.phone("+15557770201");
    await client.assignNumber(agent, await client.ensureMessagingProfile("pool-agents", webhookUrl));

    const { id } = await client.sendMessage(agent, saul.number, "Your table is booked for 8.");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await saul.waitForMessage()).toMatchObject({
      from: agent,
      to: saul.number,
      text: "Your table is booked for 8.",
    });

    await saul.send(agent, "Thanks! Can you make it 8:30?");
    const hook = await nextHook();
    const inbound = verifyTelnyxWebhook(hook.body, hook.headers, sms.webhookPublicKey);
    expect(inbound).toMatchObject({ from: saul.number, to: agent, text: "Thanks! Can you make it 8:30?" });
    expect(inbound.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(inbound.receivedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("finds its messaging profile by name instead of making another, and points its webhook at the host's current address", async () => {
    const first = await client.ensureMessagingProfile("pool-idempotent", "http://127.0.0.1:1/old");
    expect(await client.ensureMessagingProfile("pool-idempotent", "http://127.0.0.1:1/old")).toBe(first);
    expect(await client.ensureMessagingProfile("pool-idempotent", webhookUrl)).toBe(first);

    const res = await fetch(`${sms.url}/v2/messaging_profiles?filter[name]=pool-idempotent`, {
      headers: { authorization: `Bearer ${sms.apiKey}` },
    });
    const listed = (await res.json()) as { data: { id: string; webhook_url: string }[] };
    expect(listed.data).toEqual([expect.objectContaining({ id: first, webhook_url: webhookUrl })]);
  });

  it("accepts a genuine webhook and refuses a changed body, a stale one, one signed by another key, one without headers", async () => {
    const hook = await inboundHook("Is the booking still on?");
    expect(verifyTelnyxWebhook(Buffer.from(hook.body), hook.headers, sms.webhookPublicKey).text).toBe(
      "Is the booking still on?",
    );

    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(WebhookError);
        return err as WebhookError;
      }
      throw new Error("the webhook was accepted");
    };
    const tampered = hook.body.replace("still on", "cancelled");
    expect(refusal(() => verifyTelnyxWebhook(tampered, hook.headers, sms.webhookPublicKey)).problem).toBe(
      "bad-signature",
    );

    const tenMinutesLater = () => Date.now() + 600_000;
    const stale = refusal(() =>
      verifyTelnyxWebhook(hook.body, hook.headers, sms.webhookPublicKey, { now: tenMinutesLater }),
    );
    expect(stale.problem).toBe("too-old");
    expect(stale.message).toContain("at most 300 s");
    expect(
      verifyTelnyxWebhook(hook.body, hook.headers, sms.webhookPublicKey, {
        now: tenMinutesLater,
        toleranceSeconds: 900,
      }).text,
    ).toBe("Is the booking still on?");

    const otherKey = generateKeyPairSync("ed25519")
      .publicKey.export({ format: "der", type: "spki" })
      .subarray(-32)
      .toString("base64");
    expect(refusal(() => verifyTelnyxWebhook(hook.body, hook.headers, otherKey)).problem).toBe("bad-signature");
    expect(
      refusal(() => verifyTelnyxWebhook(hook.body, { "content-type": "application/json" }, sms.webhookPublicKey))
        .problem,
    ).toBe("missing-headers");
    expect(() => verifyTelnyxWebhook(hook.body, hook.headers, "bm90IGEga2V5")).toThrow("32 bytes");
  });

  it("refuses a genuine event that is not a text (a delivery receipt), naming the problem so the host acknowledges it", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const rawKey = publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
    const timestamp = String(Math.floor(Date.now() / 1000));
    const receipt = JSON.stringify({ data: { event_type: "message.finalized", payload: { id: "m1" } } });
    const headers = {
      "telnyx-timestamp": timestamp,
      "telnyx-signature-ed25519": sign(null, Buffer.from(`${timestamp}|${receipt}`), privateKey).toString("base64"),
    };
    expect(() => verifyTelnyxWebhook(receipt, headers, rawKey)).toThrow(
      expect.objectContaining({
        problem: "not-a-text",
        message: "the webhook is a message.finalized event, not message.received",
      }),
    );
  });

  it("turns a refused send into plain words with the status, never the key; an unreachable provider says so", async () => {
    const refused = await client.sendMessage("+15550100999", "+15557770401", "hi").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SmsError);
    expect((refused as SmsError).status).toBe(422);
    expect((refused as SmsError).message).toBe(
      "the SMS provider refused the message: Invalid source number: from is not assigned to a messaging profile on this account",
    );

    const wrongKey = await new TelnyxClient({ baseUrl: sms.url, apiKey: "KEYwrong" })
      .sendMessage("+15550100201", "+15557770401", "hi")
      .catch((e: unknown) => e);
    expect((wrongKey as SmsError).message).toBe("the SMS provider refused the API key");
    expect((wrongKey as SmsError).status).toBe(401);

    const badNumber = await client.sendMessage("+15550100201", "555-0100", "hi").catch((e: unknown) => e);
    expect((badNumber as SmsError).message).toContain("Phone number must be in +E.164 format");
    for (const err of [refused, wrongKey, badNumber]) {
      expect((err as Error).message).not.toContain(sms.apiKey);
      expect((err as Error).message).not.toContain("KEYwrong");
      expect((err as Error).message).not.toContain("\n    at ");
    }

    const gone = await new TelnyxClient({ baseUrl: "http://127.0.0.1:1", apiKey: sms.apiKey })
      .sendMessage("+15550100201", "+15557770401", "hi")
      .catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(SmsError);
    expect((gone as SmsError).message).toBe("the SMS provider could not be reached");
  });

  it("knows an E.164 number", () => {
    expect(["+15550100000", "+447911123456"].every(isE164)).toBe(true);
    expect(["15550100000", "+0123", "+1555010000012345", "+1 555 010 0000", ""].some(isE164)).toBe(false);
  });
});
