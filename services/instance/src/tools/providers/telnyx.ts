// The agent host's SMS client: Telnyx's messaging API (https://api.telnyx.com),
// or the local stand-in that speaks it (local-providers sms/). The host
// sends texts from its agents' numbers, and at start points its messaging
// profile's webhook at itself and assigns its numbers to that profile;
// inbound texts come to that webhook, signed with ed25519, and
// `verifyTelnyxWebhook` checks them before anything reads them.
//
// Errors are for people: an SmsError says what failed in plain words, never
// the API key, and keeps the HTTP status for the caller's policy. The calls
// go through the kit's HttpClient: a lookup or a PATCH that sets a value is
// sent again after a failure that may pass, a text or a new profile never.
import { createPublicKey, verify } from "node:crypto";
import { HttpClient, HttpError, type HttpRequest } from "@convos-pool/kit/server";

export interface TelnyxOptions {
  /** https://api.telnyx.com, or the stand-in's url; `/v2/...` is appended. */
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  /** Per request; default 15 s. */
  timeoutMs?: number;
}

/** A text that came in through the webhook, verified. */
export interface InboundText {
  /** Telnyx's message id: the same across webhook retries, so a duplicate can be dropped. */
  id: string;
  from: string;
  to: string;
  text: string;
  receivedAt: string;
}

export class SmsError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "SmsError";
  }
}

/** Why a webhook was refused. "not-a-text" is signed and fresh but carries no text (a delivery receipt, say): acknowledge it, or Telnyx sends it again. */
export type WebhookProblem = "missing-headers" | "bad-signature" | "too-old" | "not-a-text";

export class WebhookError extends Error {
  constructor(
    message: string,
    readonly problem: WebhookProblem,
  ) {
    super(message);
    this.name = "WebhookError";
  }
}

const E164 = /^\+[1-9]\d{1,14}$/;

/** A phone number in E.164 form: +, a country code, up to 15 digits in all. */
export function isE164(s: string): boolean {
  return E164.test(s);
}

/** Where texts may go; the pool's numbers are American (+1). A messaging profile must name its destinations. */
const WHITELISTED_DESTINATIONS = ["US"];

interface TelnyxErrorBody {
  errors?: { code?: string; title?: string; detail?: string }[];
}

interface MessagingProfile {
  id: string;
  name: string;
  webhook_url: string | null;
}

export class TelnyxClient {
  private readonly http: HttpClient;

  constructor(opts: TelnyxOptions) {
    this.http = new HttpClient({
      service: "the SMS provider",
      baseUrl: opts.baseUrl,
      token: opts.apiKey,
      timeoutMs: opts.timeoutMs,
      fetch: opts.fetch,
      reason: telnyxReason,
    });
  }

  /** `once`: an idempotency key (a scheduled firing's): a second send with it sends nothing more. */
  async sendMessage(from: string, to: string, text: string, once?: string): Promise<{ id: string }> {
    const { data } = await this.request<{ data: { id: string } }>("the message", {
      method: "POST",
      path: "/v2/messages",
      body: { from, to, text },
      idempotencyKey: once,
      // Whether Telnyx's /v2/messages honours the key is not checked here: a text is still never sent twice by this client.
      retry: "never",
    });
    return { id: data.id };
  }

  /** The profile's id: found by name, made if absent, its webhook pointed at `webhookUrl` if it points elsewhere. */
  async ensureMessagingProfile(name: string, webhookUrl: string): Promise<string> {
    const refused = "to set up the messaging profile";
    const { data } = await this.request<{ data: MessagingProfile[] }>(refused, {
      method: "GET",
      path: "/v2/messaging_profiles",
      query: { "filter[name]": name, "page[size]": "250" },
    });
    // The filter may match more loosely than the name itself.
    const found = data.find((p) => p.name === name);
    if (!found) {
      const created = await this.request<{ data: MessagingProfile }>(refused, {
        method: "POST",
        path: "/v2/messaging_profiles",
        body: { name, webhook_url: webhookUrl, whitelisted_destinations: WHITELISTED_DESTINATIONS },
      });
      return created.data.id;
    }
    if (found.webhook_url !== webhookUrl) {
      await this.request(refused, {
        method: "PATCH",
        path: `/v2/messaging_profiles/${encodeURIComponent(found.id)}`,
        body: { webhook_url: webhookUrl },
        // Sets a value: a second copy changes nothing more.
        retry: "idempotent",
      });
    }
    return found.id;
  }

  async assignNumber(phoneNumber: string, profileId: string): Promise<void> {
    await this.request(`to put ${phoneNumber} on the messaging profile`, {
      method: "PATCH",
      path: `/v2/phone_numbers/${encodeURIComponent(phoneNumber)}/messaging`,
      body: { messaging_profile_id: profileId },
      retry: "idempotent",
    });
  }

  /** `refused` completes "the SMS provider refused ..." for the person reading the error. */
  private async request<T>(refused: string, req: HttpRequest): Promise<T> {
    try {
      return await this.http.call<T>(req);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      // No answer (unreachable, not in time), or one that is not JSON: the client's words.
      if (err.status === undefined || (err.status >= 200 && err.status < 300))
        throw new SmsError(err.rawMessage, err.status, { cause: err });
      if (err.status === 401) throw new SmsError("the SMS provider refused the API key", err.status, { cause: err });
      throw new SmsError(`the SMS provider refused ${refused}: ${err.reason ?? `HTTP ${err.status}`}`, err.status, {
        cause: err,
      });
    }
  }
}

/** Telnyx's first error: its title and detail. */
function telnyxReason(body: unknown): string | undefined {
  const first = (body as TelnyxErrorBody | null)?.errors?.[0];
  const words = [first?.title, first?.detail].filter((s): s is string => typeof s === "string" && s.length > 0);
  return words.length ? words.join(": ") : undefined;
}

// The DER header of an ed25519 public key (SubjectPublicKeyInfo): the raw 32 bytes follow it.
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks a Telnyx webhook (its raw body, exactly as received) and returns the
 * text it carries. The signature is ed25519 over `${telnyx-timestamp}|${body}`;
 * an event older (or newer) than `toleranceSeconds` is refused, so a captured
 * one cannot be replayed later. `now` gives milliseconds, as Date.now.
 */
export function verifyTelnyxWebhook(
  rawBody: string | Buffer,
  headers: Record<string, string | string[] | undefined>,
  publicKeyBase64: string,
  opts: { toleranceSeconds?: number; now?: () => number } = {},
): InboundText {
  const raw = Buffer.from(publicKeyBase64, "base64");
  if (raw.length !== 32)
    throw new Error("the Telnyx public key must be 32 bytes in base64, as Telnyx's portal shows it");
  const publicKey = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });

  const timestamp = header(headers, "telnyx-timestamp");
  const signature = header(headers, "telnyx-signature-ed25519");
  if (!timestamp || !signature)
    throw new WebhookError("the webhook has no telnyx-timestamp or telnyx-signature-ed25519 header", "missing-headers");
  const body = typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : rawBody;
  const signed = Buffer.concat([Buffer.from(`${timestamp}|`, "utf8"), body]);
  if (!verify(null, signed, publicKey, Buffer.from(signature, "base64"))) {
    throw new WebhookError("the webhook's signature does not verify with the Telnyx public key", "bad-signature");
  }

  const tolerance = opts.toleranceSeconds ?? 300;
  const age = Math.floor((opts.now ?? Date.now)() / 1000) - Number(timestamp);
  if (!Number.isInteger(age) || Math.abs(age) > tolerance) {
    const when = !Number.isInteger(age)
      ? "has no valid timestamp"
      : age > 0
        ? `is ${age} s old`
        : `is dated ${-age} s ahead`;
    throw new WebhookError(`the webhook ${when}; at most ${tolerance} s either way is accepted`, "too-old");
  }

  let event: { data?: { event_type?: unknown; occurred_at?: unknown; payload?: Record<string, unknown> } };
  try {
    event = JSON.parse(body.toString("utf8")) as typeof event;
  } catch {
    throw new WebhookError("the webhook's body is not JSON", "not-a-text");
  }
  const type = event.data?.event_type;
  if (type !== "message.received")
    throw new WebhookError(`the webhook is a ${String(type)} event, not message.received`, "not-a-text");
  const payload = event.data?.payload ?? {};
  const from = (payload.from as { phone_number?: unknown } | undefined)?.phone_number;
  const to = (payload.to as { phone_number?: unknown }[] | undefined)?.[0]?.phone_number;
  const receivedAt = payload.received_at ?? event.data?.occurred_at;
  if (
    typeof payload.id !== "string" ||
    typeof from !== "string" ||
    typeof to !== "string" ||
    typeof receivedAt !== "string"
  ) {
    throw new WebhookError("the message.received event lacks its id, from, to or received_at", "not-a-text");
  }
  // A picture with no words has no text.
  return { id: payload.id, from, to, text: typeof payload.text === "string" ? payload.text : "", receivedAt };
}
