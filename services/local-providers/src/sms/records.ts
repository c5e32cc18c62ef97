// The stand-in's data and Telnyx's JSON for it: messaging profiles, messages
// and the webhook events that carry them, number orders, numbers for sale
// and owned, and pages of a list. Pure: each record is built from its
// arguments alone.

export interface Profile {
  id: string;
  name: string;
  webhookUrl: string | null;
  whitelistedDestinations: string[];
  createdAt: string;
  updatedAt: string;
}

/** A text the carrier accepted, as it travels to a phone or a webhook. */
export interface AcceptedText {
  id: string;
  from: string;
  to: string;
  text: string;
  encoding: string;
  parts: number;
}

export interface OrderedNumber {
  /** The order's line, not the phone number's id (which exists once the order completes). */
  id: string;
  phoneNumber: string;
  status: "pending" | "success";
}

export interface Order {
  id: string;
  status: "pending" | "success";
  numbers: OrderedNumber[];
  customerReference: string | null;
  messagingProfileId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A number the account owns. */
export interface OwnedNumber {
  id: string;
  phoneNumber: string;
  customerReference: string | null;
  createdAt: string;
}

/** What every number for sale can do. */
export const FEATURES = ["sms", "voice"];

const PAGE_SIZE = { default: 20, max: 250 };

export function profileRecord(p: Profile) {
  return {
    record_type: "messaging_profile",
    id: p.id,
    name: p.name,
    enabled: true,
    webhook_url: p.webhookUrl,
    webhook_failover_url: null,
    webhook_api_version: "2",
    whitelisted_destinations: p.whitelistedDestinations,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

/**
 * A text as Telnyx's message object has it, sent or received: what the answer
 * to a send and a received event's payload both carry, with where it stands
 * for its recipient.
 */
function messageRecord(
  m: AcceptedText,
  messagingProfileId: string | null,
  direction: "outbound" | "inbound",
  toStatus: "queued" | "webhook_delivered",
) {
  return {
    record_type: "message",
    id: m.id,
    direction,
    type: "SMS",
    messaging_profile_id: messagingProfileId,
    from: { phone_number: m.from },
    to: [{ phone_number: m.to, status: toStatus }],
    text: m.text,
    media: [],
    encoding: m.encoding,
    parts: m.parts,
  };
}

/** The answer to a text sent: queued, from the sender's profile (null: none). */
export function outboundRecord(m: AcceptedText, messagingProfileId: string | null, at: string) {
  return {
    ...messageRecord(m, messagingProfileId, "outbound", "queued"),
    errors: [],
    created_at: at,
    received_at: at,
  };
}

/** The `message.received` event a webhook carries, for the recipient's profile. */
export function receivedEvent(m: AcceptedText, messagingProfileId: string | null, eventId: string, at: string) {
  return {
    event_type: "message.received",
    id: eventId,
    occurred_at: at,
    payload: { ...messageRecord(m, messagingProfileId, "inbound", "webhook_delivered"), received_at: at },
    record_type: "event",
  };
}

/** A number's messaging settings: which profile it is on (null: none). */
export function messagingSettingsRecord(phoneNumber: string, messagingProfileId: string | null, at: string) {
  return {
    record_type: "messaging_settings",
    phone_number: phoneNumber,
    messaging_profile_id: messagingProfileId,
    type: "long-code",
    updated_at: at,
  };
}

export function orderRecord(o: Order) {
  return {
    record_type: "number_order",
    id: o.id,
    status: o.status,
    phone_numbers_count: o.numbers.length,
    phone_numbers: o.numbers.map((n) => ({
      record_type: "number_order_phone_number",
      id: n.id,
      phone_number: n.phoneNumber,
      status: n.status,
    })),
    customer_reference: o.customerReference,
    messaging_profile_id: o.messagingProfileId,
    created_at: o.createdAt,
    updated_at: o.updatedAt,
  };
}

export function availableRecord(phoneNumber: string) {
  return {
    record_type: "available_phone_number",
    phone_number: phoneNumber,
    best_effort: false,
    features: FEATURES.map((name) => ({ name })),
    region_information: [{ region_type: "country_code", region_name: "US" }],
    cost_information: { upfront_cost: "1.00", monthly_cost: "1.00", currency: "USD" },
  };
}

/** A number the account owns, on a profile or none (null), "active" or, once given back, "deleted". */
export function phoneNumberRecord(n: OwnedNumber, messagingProfileId: string | null, status = "active") {
  return {
    record_type: "phone_number",
    id: n.id,
    phone_number: n.phoneNumber,
    status,
    messaging_profile_id: messagingProfileId,
    customer_reference: n.customerReference,
    created_at: n.createdAt,
  };
}

/** A page of a list, by `page[size]` and `page[number]`, with Telnyx's `meta`. */
export function paged<T>(all: readonly T[], query: URLSearchParams) {
  const size = Math.min(Math.max(Number(query.get("page[size]")) || PAGE_SIZE.default, 1), PAGE_SIZE.max);
  const page = Math.max(Number(query.get("page[number]")) || 1, 1);
  return {
    data: all.slice((page - 1) * size, page * size),
    meta: { page_number: page, page_size: size, total_pages: Math.ceil(all.length / size), total_results: all.length },
  };
}
