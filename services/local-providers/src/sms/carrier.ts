// The carrier's side: messaging profiles, which number is on which, the local
// phones' inboxes, and delivering each accepted text, to the webhook of the
// recipient's profile or else to the recipient's local phone.
import { randomUUID, type KeyObject } from "node:crypto";
import type { Logger } from "@convos-pool/kit/server";
import { smsParts } from "./encoding.js";
import { Inbox } from "./phones.js";
import { outboundRecord, receivedEvent, type AcceptedText, type Profile } from "./records.js";
import { postWebhook, type WebhookSender } from "./webhooks.js";

export class Carrier {
  readonly profiles = new Map<string, Profile>();
  /** Phone number → messaging profile id. */
  readonly assignments = new Map<string, string>();
  private readonly inboxes = new Map<string, Inbox>();
  private readonly sender: WebhookSender;

  constructor(
    signingKey: KeyObject,
    private readonly stopping: AbortSignal,
    private readonly log?: Logger,
  ) {
    this.sender = { signingKey, stopping, log };
  }

  inbox(number: string): Inbox {
    let inbox = this.inboxes.get(number);
    if (!inbox) {
      inbox = new Inbox(number);
      this.inboxes.set(number, inbox);
    }
    return inbox;
  }

  /** The profile a number is on; null for none. */
  profileOf(number: string): string | null {
    return this.assignments.get(number) ?? null;
  }

  /** Takes a text, answers its outbound record, and delivers it once the caller has its answer. */
  accept(from: string, to: string, text: string) {
    const accepted: AcceptedText = { id: randomUUID(), from, to, text, ...smsParts(text) };
    const now = new Date().toISOString();
    const webhookUrl = this.webhookOf(to);
    this.log?.info("text accepted", {
      from,
      to,
      length: [...text].length,
      parts: accepted.parts,
      route: webhookUrl ? "webhook" : "phone",
    });
    setImmediate(() => {
      if (this.stopping.aborted) return;
      if (webhookUrl) void this.deliverToWebhook(webhookUrl, accepted);
      else this.inbox(to).receive({ from, to, text, at: new Date().toISOString() });
    });
    return outboundRecord(accepted, this.profileOf(from), now);
  }

  close(): void {
    for (const inbox of this.inboxes.values()) inbox.close();
  }

  private webhookOf(number: string): string | null {
    const profileId = this.assignments.get(number);
    return (profileId && this.profiles.get(profileId)?.webhookUrl) || null;
  }

  private deliverToWebhook(url: string, text: AcceptedText): Promise<void> {
    // One event id across retries, as Telnyx keeps it: receivers drop duplicates by it.
    const event = receivedEvent(text, this.profileOf(text.to), randomUUID(), new Date().toISOString());
    return postWebhook(this.sender, url, event, text.to);
  }
}
