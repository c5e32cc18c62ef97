// Webhooks as Telnyx sends them: the event POSTed as JSON, signed with
// ed25519 over `${timestamp}|${body}` (headers `telnyx-timestamp` and
// `telnyx-signature-ed25519`), retried with backoff, and dropped after the
// last retry as Telnyx drops it.
import { sign, type KeyObject } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@convos-pool/kit/server";

/** The waits before each retry of a failed webhook: four attempts in all. */
export const WEBHOOK_RETRY_DELAYS_MS = [500, 2_000, 8_000];
const WEBHOOK_TIMEOUT_MS = 5_000;

/** The key that verifies webhooks as Telnyx's portal shows it: base64 of its raw 32 bytes. */
export function rawPublicKey(publicKey: KeyObject): string {
  // The raw key is the last 32 bytes of its SPKI encoding.
  return publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
}

/** The headers of a webhook whose body is `body`, sent at `timestamp` (Unix seconds). */
export function signedHeaders(body: string, timestamp: number, signingKey: KeyObject): Record<string, string> {
  const at = String(timestamp);
  return {
    "content-type": "application/json",
    "telnyx-timestamp": at,
    "telnyx-signature-ed25519": sign(null, Buffer.from(`${at}|${body}`), signingKey).toString("base64"),
  };
}

/** The body of one attempt: the event, the same in every attempt, and which attempt this is. */
export function webhookBody(event: unknown, attempt: number, url: string): string {
  return JSON.stringify({ data: event, meta: { attempt, delivered_to: url } });
}

export interface WebhookSender {
  signingKey: KeyObject;
  /** Aborted when the stand-in closes: no attempt, wait or retry after it. */
  stopping: AbortSignal;
  log?: Logger | undefined;
}

/** Posts `event` to `url` until it is taken (a 2xx) or the retries are spent; `to` is for logs. */
export async function postWebhook(sender: WebhookSender, url: string, event: unknown, to: string): Promise<void> {
  const { signingKey, stopping, log } = sender;
  // The URL may carry a token of the host's: log its origin only.
  const origin = new URL(url).origin;
  for (let attempt = 1; ; attempt++) {
    const body = webhookBody(event, attempt, url);
    let failure: string;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: signedHeaders(body, Math.floor(Date.now() / 1000), signingKey),
        body,
        signal: AbortSignal.any([stopping, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
      });
      await res.body?.cancel();
      if (res.ok) return;
      failure = `HTTP ${res.status}`;
    } catch (err) {
      if (stopping.aborted) return;
      failure = err instanceof Error ? err.message : String(err);
    }
    const delay = WEBHOOK_RETRY_DELAYS_MS[attempt - 1];
    if (delay === undefined) {
      log?.warn("webhook failed; text dropped, as Telnyx drops it after its retries", {
        to,
        webhook: origin,
        attempt,
        failure,
      });
      return;
    }
    log?.warn("webhook failed; retrying", { to, webhook: origin, attempt, failure, retryInMs: delay });
    try {
      await sleep(delay, undefined, { signal: stopping });
    } catch {
      return; // closing
    }
  }
}
