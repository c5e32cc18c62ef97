// The instance host's webhook for texts to its agents' numbers (Telnyx's
// `message.received`, or the local stand-in's), on a plain HTTP listener of
// its own: texts come from the SMS provider, not from a pool service, so
// they neither pass the service credentials nor reach the control plane.
// Each is checked (ed25519 signature, timestamp), a retried one dropped by
// its id, and handed to the agent that holds the number.

import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@convos-pool/kit/server";
import type { InboundTextTurn } from "../model/turn.js";
import { TelnyxClient, WebhookError, verifyTelnyxWebhook, type InboundText } from "../tools/providers/telnyx.js";

export interface SmsWebhookOptions {
  apiUrl: string;
  apiKey: string;
  /** Telnyx's public key (base64): every webhook must be signed with its private half. */
  webhookPublicKey: string;
  /** Port of the webhook's listener; 0: a free one. */
  webhookPort?: number;
  webhookHost?: string;
  /** The webhook's public URL, when the provider reaches the host through a proxy. */
  webhookUrl?: string;
  /** The messaging profile of this host's numbers; default "convos-pool-host". */
  profileName?: string;
}

/** Whoever takes a text to a number: an agent of this host. */
export interface TextRecipient {
  inboundText(t: InboundTextTurn): void;
}

export interface RunningSmsWebhook {
  client: TelnyxClient;
  /** The profile the host's numbers go on; absent when the provider could not be reached at start. */
  profileId?: string;
  url: string;
  close(): Promise<void>;
}

/** Texts to the host's agents' numbers: the provider's webhook, on a listener of its own. */
export async function startSmsWebhook(
  o: SmsWebhookOptions,
  recipientOf: (number: string) => TextRecipient | undefined,
  log: Logger,
): Promise<RunningSmsWebhook> {
  const client = new TelnyxClient({ baseUrl: o.apiUrl, apiKey: o.apiKey });
  // A retried webhook carries the same message id: answered once.
  const recent = new Set<string>();
  const server: Server = createServer((req, res) => {
    void handle(req).then(
      (status) =>
        res
          .writeHead(status, { "content-type": "application/json" })
          .end(status === 200 ? "{}" : JSON.stringify({ status })),
      (err: unknown) => {
        log.error("SMS webhook failed", { err });
        res.writeHead(500).end();
      },
    );
  });
  async function handle(req: IncomingMessage): Promise<number> {
    if (req.method !== "POST" || req.url !== "/webhooks/telnyx") return 404;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > 256 * 1024) return 413;
      chunks.push(c);
    }
    let text: InboundText;
    try {
      text = verifyTelnyxWebhook(Buffer.concat(chunks), req.headers, o.webhookPublicKey);
    } catch (err) {
      if (err instanceof WebhookError) {
        log.warn("SMS webhook refused", { reason: err.message });
        return err.problem === "not-a-text" ? 200 : 401;
      }
      throw err;
    }
    if (recent.has(text.id)) return 200;
    recent.add(text.id);
    if (recent.size > 10_000) {
      const oldest = recent.values().next();
      if (!oldest.done) recent.delete(oldest.value);
    }
    const agent = recipientOf(text.to);
    if (!agent) {
      log.warn("a text for a number no agent of this host holds", { to: text.to });
      return 404;
    }
    agent.inboundText({ from: text.from, to: text.to, text: text.text });
    return 200;
  }
  await new Promise<void>((resolve) => server.listen(o.webhookPort ?? 0, o.webhookHost ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = o.webhookUrl ?? `http://${o.webhookHost ?? "127.0.0.1"}:${port}/webhooks/telnyx`;
  let profileId: string | undefined;
  try {
    profileId = await client.ensureMessagingProfile(o.profileName ?? "convos-pool-host", url);
    log.info("SMS webhook registered", { url, profileId });
  } catch (err) {
    log.warn("could not register the SMS webhook: texts to agents will not reach this host", {
      err: err instanceof Error ? err.message : String(err),
    });
  }
  return {
    client,
    ...(profileId ? { profileId } : {}),
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
