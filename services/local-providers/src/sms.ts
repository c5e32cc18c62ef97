// A local stand-in of Telnyx's messaging API (we cannot reach Telnyx from
// here): the same endpoints, bodies, errors and signed webhooks, so the
// agent host's client (instance tools/telnyx.ts) works unchanged against
// either. A text to a number on a messaging profile with a webhook URL is
// POSTed there as a `message.received` event, signed with ed25519 as Telnyx
// signs (`telnyx-timestamp`, `telnyx-signature-ed25519` over
// `${timestamp}|${body}`) and retried with backoff; a text to any other
// number lands in that number's local phone, which tests and people read and
// send from (`phone()`, or the `/local/phones/...` routes).
//
// It also sells numbers as Telnyx does (search `/v2/available_phone_numbers`,
// `POST /v2/number_orders`, which completes a moment later, then the
// account's `/v2/phone_numbers`, deleted to give one back), from a local
// inventory of fictional US numbers, so that the claims service's production
// provider (claims providers/telnyx-numbers.ts) is tested against it. Numbers
// the account does not own (the claims service's local range) may still be
// put on a profile and text, as before.
//
// Everything is in memory: profiles, which number is on which, orders, the
// account's numbers, the phones' inboxes. A restart forgets them, so the
// agent host registers its profile and numbers again every time it starts
// (as it must with Telnyx anyway, to point the webhook at its current
// address).
//
// The `/local/` routes take no API key: they answer loopback clients only.
import { generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { sameSecret, type Logger } from "@convos-pool/kit";
import { isLoopback, readJsonObject, serveJsonApi, type ApiErrors, type JsonObject } from "./json-api.js";

export interface LocalSmsOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The key API clients send as `Authorization: Bearer <key>`; default: a fresh one. */
  apiKey?: string;
  /** The numbers for sale, a US range like "+15550110000..+15550119999" (the default; fictional). */
  inventory?: string;
  log?: Logger;
}

/** A text as a local phone received it. */
export interface LocalText {
  from: string;
  to: string;
  text: string;
  /** When it arrived, ISO 8601. */
  at: string;
}

/** A phone outside the pool (a person's), for tests and people: not part of Telnyx's API. */
export interface LocalPhone {
  readonly number: string;
  /** Sends as this number, delivered exactly like a text sent through the API. */
  send(to: string, text: string): Promise<void>;
  /** What this phone received, oldest first. */
  messages(): readonly LocalText[];
  /** The first text received (already, or within `ms`) that `pred` accepts. */
  waitForMessage(pred?: (m: LocalText) => boolean, ms?: number): Promise<LocalText>;
}

export interface LocalSms {
  /** http://host:port: the API's base, as https://api.telnyx.com is Telnyx's. */
  url: string;
  apiKey: string;
  /** The ed25519 key that verifies webhooks: base64 of its raw 32 bytes, as Telnyx's portal shows it. */
  webhookPublicKey: string;
  phone(number: string): LocalPhone;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{1,14}$/;
const MAX_TEXT_CHARS = 1600;
const MAX_BODY_BYTES = 64 * 1024;
/** The waits before each retry of a failed webhook: four attempts in all. */
const WEBHOOK_RETRY_DELAYS_MS = [500, 2_000, 8_000];
const WEBHOOK_TIMEOUT_MS = 5_000;
const PAGE_SIZE = { default: 20, max: 250 };
/** Apart from the claims service's local range (+1 555 010 ...), so the two never hand out the same number. */
export const DEFAULT_SMS_INVENTORY = "+15550110000..+15550119999";
const MAX_INVENTORY = 1_000_000;
const SEARCH_LIMIT = { default: 10, max: 100 };
/** What every number for sale can do. */
const FEATURES = ["sms", "voice"];
/** How long an order stays pending: long enough that a client must wait for it, as with Telnyx. */
const ORDER_COMPLETES_AFTER_MS = 150;

/** An error as Telnyx writes it: `{"errors":[{code, title, detail, source}]}` with its status. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly source?: { pointer: string } | { parameter: string },
  ) {
    super(detail);
  }

  body() {
    return {
      errors: [
        { code: this.code, title: this.title, detail: this.message, ...(this.source ? { source: this.source } : {}) },
      ],
    };
  }
}

const notFound = (detail: string) => new ApiError(404, "10005", "Resource not found", detail);
const missing = (field: string) =>
  new ApiError(422, "10004", "Missing required parameter", `${field} is required`, { pointer: `/${field}` });
const invalid = (field: string, detail: string) =>
  new ApiError(422, "10015", "Bad Request", detail, { pointer: `/${field}` });
const notANumber = (detail: string, source: { pointer: string } | { parameter: string }) =>
  new ApiError(422, "10016", "Phone number must be in +E.164 format", detail, source);
const noSuchProfile = () =>
  new ApiError(422, "10017", "Associated resource does not exist", "messaging_profile_id names no messaging profile", {
    pointer: "/messaging_profile_id",
  });

type Body = JsonObject;

const API_ERRORS: ApiErrors = {
  answerOf: (err) => (err instanceof ApiError ? { status: err.status, body: err.body() } : undefined),
  tooLarge: (max) => new ApiError(413, "10015", "Bad Request", `the body is larger than ${max} bytes`),
  notJson: () => new ApiError(400, "10023", "Invalid JSON", "the body is not JSON"),
  notObject: () => new ApiError(400, "10015", "Bad Request", "the body must be a JSON object"),
  badPath: () => ({ status: 404, body: notFound("the path is not valid").body() }),
  failed: () => ({
    status: 500,
    body: new ApiError(500, "10007", "Unexpected error", "the local SMS server failed; see its log").body(),
  }),
};

function stringField(body: Body, field: string): string {
  const value = body[field];
  if (value === undefined || value === null || value === "") throw missing(field);
  if (typeof value !== "string") throw invalid(field, `${field} must be a string`);
  return value;
}

function numberField(body: Body, field: string): string {
  const value = stringField(body, field);
  if (!E164.test(value))
    throw notANumber(`${field} must be a phone number in +E.164 form, like +15550100000`, { pointer: `/${field}` });
  return value;
}

/** A webhook URL, or null to have none; only http(s). */
function webhookUrlField(body: Body): string | null {
  const value = body.webhook_url;
  if (value === null || value === "") return null;
  if (typeof value !== "string") throw invalid("webhook_url", "webhook_url must be a string");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ApiError(422, "10003", "Invalid URL", "webhook_url is not a URL", { pointer: "/webhook_url" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new ApiError(422, "10003", "Invalid URL", "webhook_url must be http or https", { pointer: "/webhook_url" });
  return value;
}

function textField(body: Body): string {
  const text = stringField(body, "text");
  // Characters as a person counts them: an emoji is one.
  if ([...text].length > MAX_TEXT_CHARS) throw invalid("text", `text is longer than ${MAX_TEXT_CHARS} characters`);
  return text;
}

// GSM 03.38: the default alphabet (one septet) and its extension table (two).
const GSM_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
const GSM_EXTENDED = new Set("\f^{}\\[~]|€");

/** How a carrier would encode the text, and into how many SMS parts it splits. */
function smsParts(text: string): { encoding: "GSM-7" | "UCS-2"; parts: number } {
  let septets = 0;
  for (const ch of text) {
    if (GSM_BASIC.has(ch)) septets += 1;
    else if (GSM_EXTENDED.has(ch)) septets += 2;
    else {
      const units = text.length;
      return { encoding: "UCS-2", parts: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: "GSM-7", parts: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

interface Profile {
  id: string;
  name: string;
  webhookUrl: string | null;
  whitelistedDestinations: string[];
  createdAt: string;
  updatedAt: string;
}

function profileRecord(p: Profile) {
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

interface Waiter {
  pred: (m: LocalText) => boolean;
  resolve: (m: LocalText) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class Inbox {
  readonly texts: LocalText[] = [];
  private readonly waiters = new Set<Waiter>();

  constructor(readonly number: string) {}

  receive(text: LocalText): void {
    this.texts.push(text);
    for (const w of this.waiters) {
      if (!w.pred(text)) continue;
      this.waiters.delete(w);
      clearTimeout(w.timer);
      w.resolve(text);
    }
  }

  waitFor(pred: (m: LocalText) => boolean, ms: number): Promise<LocalText> {
    const found = this.texts.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`no matching text reached ${this.number} within ${ms} ms`));
        }, ms),
      };
      this.waiters.add(waiter);
    });
  }

  close(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`the local SMS server closed before a matching text reached ${this.number}`));
    }
    this.waiters.clear();
  }
}

/** The carrier's side: profiles, assignments, inboxes, and delivering each accepted text. */
class Carrier {
  readonly profiles = new Map<string, Profile>();
  /** Phone number → messaging profile id. */
  readonly assignments = new Map<string, string>();
  private readonly inboxes = new Map<string, Inbox>();

  constructor(
    private readonly signingKey: KeyObject,
    private readonly stopping: AbortSignal,
    private readonly log?: Logger,
  ) {}

  inbox(number: string): Inbox {
    let inbox = this.inboxes.get(number);
    if (!inbox) this.inboxes.set(number, (inbox = new Inbox(number)));
    return inbox;
  }

  /** Takes a text, answers its outbound record, and delivers it once the caller has its answer. */
  accept(from: string, to: string, text: string) {
    const id = randomUUID();
    const now = new Date().toISOString();
    const { encoding, parts } = smsParts(text);
    const webhookUrl = this.webhookOf(to);
    this.log?.info("text accepted", {
      from,
      to,
      length: [...text].length,
      parts,
      route: webhookUrl ? "webhook" : "phone",
    });
    setImmediate(() => {
      if (this.stopping.aborted) return;
      if (webhookUrl) void this.postWebhook(webhookUrl, { id, from, to, text, encoding, parts });
      else this.inbox(to).receive({ from, to, text, at: new Date().toISOString() });
    });
    return {
      record_type: "message",
      id,
      direction: "outbound",
      type: "SMS",
      messaging_profile_id: this.assignments.get(from) ?? null,
      from: { phone_number: from },
      to: [{ phone_number: to, status: "queued" }],
      text,
      media: [],
      encoding,
      parts,
      errors: [],
      created_at: now,
      received_at: now,
    };
  }

  private webhookOf(number: string): string | null {
    const profileId = this.assignments.get(number);
    return (profileId && this.profiles.get(profileId)?.webhookUrl) || null;
  }

  private async postWebhook(
    url: string,
    m: { id: string; from: string; to: string; text: string; encoding: string; parts: number },
  ): Promise<void> {
    const receivedAt = new Date().toISOString();
    // One event id across retries, as Telnyx keeps it: receivers drop duplicates by it.
    const event = {
      event_type: "message.received",
      id: randomUUID(),
      occurred_at: receivedAt,
      payload: {
        id: m.id,
        record_type: "message",
        direction: "inbound",
        type: "SMS",
        messaging_profile_id: this.assignments.get(m.to) ?? null,
        from: { phone_number: m.from },
        to: [{ phone_number: m.to, status: "webhook_delivered" }],
        text: m.text,
        media: [],
        encoding: m.encoding,
        parts: m.parts,
        received_at: receivedAt,
      },
      record_type: "event",
    };
    // The URL may carry a token of the host's: log its origin only.
    const origin = new URL(url).origin;
    for (let attempt = 1; ; attempt++) {
      const body = JSON.stringify({ data: event, meta: { attempt, delivered_to: url } });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = sign(null, Buffer.from(`${timestamp}|${body}`), this.signingKey).toString("base64");
      let failure: string;
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "telnyx-timestamp": timestamp,
            "telnyx-signature-ed25519": signature,
          },
          body,
          signal: AbortSignal.any([this.stopping, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
        });
        await res.body?.cancel();
        if (res.ok) return;
        failure = `HTTP ${res.status}`;
      } catch (err) {
        if (this.stopping.aborted) return;
        failure = err instanceof Error ? err.message : String(err);
      }
      const delay = WEBHOOK_RETRY_DELAYS_MS[attempt - 1];
      if (delay === undefined) {
        this.log?.warn("webhook failed; text dropped, as Telnyx drops it after its retries", {
          to: m.to,
          webhook: origin,
          attempt,
          failure,
        });
        return;
      }
      this.log?.warn("webhook failed; retrying", { to: m.to, webhook: origin, attempt, failure, retryInMs: delay });
      try {
        await sleep(delay, undefined, { signal: this.stopping });
      } catch {
        return; // closing
      }
    }
  }

  close(): void {
    for (const inbox of this.inboxes.values()) inbox.close();
  }
}

/** A range of US numbers, both ends +1 and ten digits. */
interface Inventory {
  first: bigint;
  last: bigint;
}

function parseInventory(spec: string): Inventory {
  const m = /^\s*\+(1\d{10})\s*\.\.\s*\+(1\d{10})\s*$/.exec(spec);
  if (!m)
    throw new Error(
      `SMS inventory "${spec}": expected "+1<ten digits>..+1<ten digits>" (the stand-in sells US numbers only)`,
    );
  const inventory = { first: BigInt(m[1]!), last: BigInt(m[2]!) };
  if (inventory.last < inventory.first) throw new Error(`SMS inventory "${spec}": the last number is below the first`);
  if (inventory.last - inventory.first >= MAX_INVENTORY)
    throw new Error(`SMS inventory "${spec}": at most ${MAX_INVENTORY} numbers`);
  return inventory;
}

interface OrderedNumber {
  /** The order's line, not the phone number's id (which exists once the order completes). */
  id: string;
  phoneNumber: string;
  status: "pending" | "success";
}

interface Order {
  id: string;
  status: "pending" | "success";
  numbers: OrderedNumber[];
  customerReference: string | null;
  messagingProfileId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A number the account owns. */
interface OwnedNumber {
  id: string;
  phoneNumber: string;
  customerReference: string | null;
  createdAt: string;
}

function orderRecord(o: Order) {
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

function availableRecord(phoneNumber: string) {
  return {
    record_type: "available_phone_number",
    phone_number: phoneNumber,
    best_effort: false,
    features: FEATURES.map((name) => ({ name })),
    region_information: [{ region_type: "country_code", region_name: "US" }],
    cost_information: { upfront_cost: "1.00", monthly_cost: "1.00", currency: "USD" },
  };
}

/** Telnyx's phone-number ids are digits, unlike its other ids: a client must not assume a UUID. */
function phoneNumberId(): string {
  return (BigInt(`0x${randomBytes(8).toString("hex")}`) >> 1n).toString();
}

const unavailable = (index: number, phoneNumber: string) =>
  new ApiError(
    422,
    "10015",
    "Phone number not available",
    `${phoneNumber} is not available to order; search /v2/available_phone_numbers for numbers that are`,
    {
      pointer: `/phone_numbers/${index}/phone_number`,
    },
  );

/** The account's side: the inventory for sale, the orders, the numbers bought. */
class NumberShop {
  /** Numbers in an order or owned: not for sale. */
  private readonly taken = new Set<string>();
  readonly orders = new Map<string, Order>();
  /** Phone-number id → number. */
  private readonly owned = new Map<string, OwnedNumber>();

  constructor(
    private readonly inventory: Inventory,
    private readonly carrier: Carrier,
    private readonly stopping: AbortSignal,
    private readonly log?: Logger,
  ) {}

  private forSale(phoneNumber: string): boolean {
    if (!/^\+1\d{10}$/.test(phoneNumber) || this.taken.has(phoneNumber)) return false;
    const n = BigInt(phoneNumber.slice(1));
    return n >= this.inventory.first && n <= this.inventory.last;
  }

  /** Up to `limit` numbers for sale, lowest first; `startsWith` matches the national number (without +1), as Telnyx's filter does. */
  available(limit: number, startsWith = ""): string[] {
    const found: string[] = [];
    for (let n = this.inventory.first; n <= this.inventory.last && found.length < limit; n++) {
      const phoneNumber = `+${n}`;
      if (phoneNumber.slice(2).startsWith(startsWith) && !this.taken.has(phoneNumber)) found.push(phoneNumber);
    }
    return found;
  }

  /** Takes every number or none; the order completes a moment later. */
  order(phoneNumbers: string[], customerReference: string | null, messagingProfileId: string | null): Order {
    phoneNumbers.forEach((n, i) => {
      if (!this.forSale(n) || phoneNumbers.indexOf(n) !== i) throw unavailable(i, n);
    });
    for (const n of phoneNumbers) this.taken.add(n);
    const now = new Date().toISOString();
    const order: Order = {
      id: randomUUID(),
      status: "pending",
      numbers: phoneNumbers.map((phoneNumber) => ({ id: randomUUID(), phoneNumber, status: "pending" })),
      customerReference,
      messagingProfileId,
      createdAt: now,
      updatedAt: now,
    };
    this.orders.set(order.id, order);
    this.log?.info("number order placed", { order: order.id, numbers: phoneNumbers, customerReference });
    setTimeout(() => this.complete(order), ORDER_COMPLETES_AFTER_MS).unref();
    return order;
  }

  private complete(order: Order): void {
    if (this.stopping.aborted) return;
    const now = new Date().toISOString();
    for (const line of order.numbers) {
      const id = phoneNumberId();
      this.owned.set(id, {
        id,
        phoneNumber: line.phoneNumber,
        customerReference: order.customerReference,
        createdAt: now,
      });
      // The profile may have been deleted meanwhile; the number then stays on none.
      if (order.messagingProfileId && this.carrier.profiles.has(order.messagingProfileId))
        this.carrier.assignments.set(line.phoneNumber, order.messagingProfileId);
      line.status = "success";
    }
    Object.assign(order, { status: "success", updatedAt: now });
    this.log?.info("number order completed", { order: order.id });
  }

  ownedNumbers(): OwnedNumber[] {
    return [...this.owned.values()];
  }

  /** Gives the number back: off its profile, and for sale again. */
  release(id: string): OwnedNumber | undefined {
    const owned = this.owned.get(id);
    if (!owned) return undefined;
    this.owned.delete(id);
    this.carrier.assignments.delete(owned.phoneNumber);
    this.taken.delete(owned.phoneNumber);
    this.log?.info("number released", { number: owned.phoneNumber });
    return owned;
  }

  record(n: OwnedNumber, status = "active") {
    return {
      record_type: "phone_number",
      id: n.id,
      phone_number: n.phoneNumber,
      status,
      messaging_profile_id: this.carrier.assignments.get(n.phoneNumber) ?? null,
      customer_reference: n.customerReference,
      created_at: n.createdAt,
    };
  }
}

/** The numbers asked for: `[{phone_number}]`, at least one. */
function orderedNumbersField(body: Body): string[] {
  const list = body.phone_numbers;
  if (list === undefined || list === null) throw missing("phone_numbers");
  if (!Array.isArray(list) || list.length === 0)
    throw invalid("phone_numbers", "phone_numbers must be a list of at least one {phone_number}");
  return list.map((item: unknown, i) => {
    const n = typeof item === "object" && item !== null ? (item as Body).phone_number : undefined;
    if (typeof n !== "string" || !E164.test(n)) {
      throw notANumber(`phone_numbers[${i}].phone_number must be a phone number in +E.164 form, like +15550110000`, {
        pointer: `/phone_numbers/${i}/phone_number`,
      });
    }
    return n;
  });
}

function optionalStringField(body: Body, field: string): string | null {
  const value = body[field];
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw invalid(field, `${field} must be a string`);
  return value;
}

/** The numbers a search finds; a filter the inventory cannot meet (another country, a feature it lacks) finds none, as with Telnyx. */
function searchInventory(shop: NumberShop, query: URLSearchParams): string[] {
  const country = (query.get("filter[country_code]") ?? "US").toUpperCase();
  const features = [
    ...query.getAll("filter[features][]"),
    ...query.getAll("filter[features]").flatMap((f) => f.split(",")),
  ];
  const limitParam = query.get("filter[limit]");
  const limit = limitParam === null ? SEARCH_LIMIT.default : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_LIMIT.max) {
    throw new ApiError(
      422,
      "10015",
      "Bad Request",
      `filter[limit] must be a whole number from 1 to ${SEARCH_LIMIT.max}`,
      { parameter: "filter[limit]" },
    );
  }
  const startsWith = query.get("filter[phone_number][starts_with]") ?? "";
  if (!/^\d{0,10}$/.test(startsWith)) {
    throw new ApiError(
      422,
      "10015",
      "Bad Request",
      "filter[phone_number][starts_with] must be digits of the national number, without the country code",
      {
        parameter: "filter[phone_number][starts_with]",
      },
    );
  }
  if (country !== "US" || !features.every((f) => FEATURES.includes(f))) return [];
  return shop.available(limit, startsWith);
}

/** A page of a list, by `page[size]` and `page[number]`, with Telnyx's `meta`. */
function paged<T>(all: readonly T[], query: URLSearchParams) {
  const size = Math.min(Math.max(Number(query.get("page[size]")) || PAGE_SIZE.default, 1), PAGE_SIZE.max);
  const page = Math.max(Number(query.get("page[number]")) || 1, 1);
  return {
    data: all.slice((page - 1) * size, page * size),
    meta: { page_number: page, page_size: size, total_pages: Math.ceil(all.length / size), total_results: all.length },
  };
}

export async function startLocalSms(opts: LocalSmsOptions = {}): Promise<LocalSms> {
  const host = opts.host ?? "127.0.0.1";
  const apiKey = opts.apiKey ?? `KEYlocal_${randomBytes(24).toString("base64url")}`;
  const log = opts.log;
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  // The raw key is the last 32 bytes of its SPKI encoding.
  const webhookPublicKey = publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
  const stopping = new AbortController();
  const carrier = new Carrier(privateKey, stopping.signal, log);
  const shop = new NumberShop(parseInventory(opts.inventory ?? DEFAULT_SMS_INVENTORY), carrier, stopping.signal, log);

  async function route(req: IncomingMessage, path: string[], query: URLSearchParams): Promise<unknown> {
    const method = req.method ?? "GET";
    const [top, collection, id, sub] = path;

    if (top === "local" && collection === "phones" && id !== undefined && sub === "messages" && path.length === 4) {
      if (!isLoopback(req.socket.remoteAddress))
        throw new ApiError(403, "10010", "Authorization failed", "local phones answer loopback clients only");
      if (!E164.test(id)) throw notANumber("the phone must be a number in +E.164 form", { parameter: "phone_number" });
      if (method === "GET") return { data: carrier.inbox(id).texts };
      if (method === "POST") {
        const body = await readJsonObject(req, MAX_BODY_BYTES, API_ERRORS);
        return { data: carrier.accept(id, numberField(body, "to"), textField(body)) };
      }
    }

    if (top !== "v2") throw notFound(`no ${method} ${req.url ?? ""}`);
    const auth = req.headers.authorization ?? "";
    if (!sameSecret(auth, `Bearer ${apiKey}`)) {
      throw new ApiError(
        401,
        "10009",
        "Authentication failed",
        "the Authorization header must be Bearer and this server's API key",
      );
    }

    if (collection === "messaging_profiles" && id === undefined) {
      if (method === "POST") {
        const body = await readJsonObject(req, MAX_BODY_BYTES, API_ERRORS);
        const name = stringField(body, "name");
        const destinations = body.whitelisted_destinations;
        if (destinations === undefined) throw missing("whitelisted_destinations");
        if (!Array.isArray(destinations) || !destinations.every((d) => typeof d === "string" && /^[A-Z]{2}$/.test(d))) {
          throw invalid(
            "whitelisted_destinations",
            "whitelisted_destinations must be a list of ISO 3166-1 alpha-2 country codes",
          );
        }
        const now = new Date().toISOString();
        const profile: Profile = {
          id: randomUUID(),
          name,
          webhookUrl: webhookUrlField(body),
          whitelistedDestinations: destinations as string[],
          createdAt: now,
          updatedAt: now,
        };
        carrier.profiles.set(profile.id, profile);
        log?.info("messaging profile created", { id: profile.id, name });
        return { data: profileRecord(profile) };
      }
      if (method === "GET") {
        const name = query.get("filter[name]");
        return paged(
          [...carrier.profiles.values()].filter((p) => name === null || p.name === name).map(profileRecord),
          query,
        );
      }
    }

    if (collection === "messaging_profiles" && id !== undefined && sub === undefined && method === "PATCH") {
      const profile = carrier.profiles.get(id);
      if (!profile) throw notFound(`no messaging profile ${id}`);
      const body = await readJsonObject(req, MAX_BODY_BYTES, API_ERRORS);
      // Both checked before either changes.
      const name = body.name === undefined ? profile.name : stringField(body, "name");
      const webhookUrl = body.webhook_url === undefined ? profile.webhookUrl : webhookUrlField(body);
      Object.assign(profile, { name, webhookUrl });
      profile.updatedAt = new Date().toISOString();
      return { data: profileRecord(profile) };
    }

    if (
      collection === "phone_numbers" &&
      id !== undefined &&
      sub === "messaging" &&
      path.length === 4 &&
      method === "PATCH"
    ) {
      if (!E164.test(id)) throw notANumber("the phone number in the path must be in +E.164 form", { parameter: "id" });
      const body = await readJsonObject(req, MAX_BODY_BYTES, API_ERRORS);
      if (!("messaging_profile_id" in body)) throw missing("messaging_profile_id");
      const profileId = body.messaging_profile_id;
      if (profileId === null || profileId === "") carrier.assignments.delete(id);
      else if (typeof profileId === "string" && carrier.profiles.has(profileId)) carrier.assignments.set(id, profileId);
      else throw noSuchProfile();
      log?.info("number's messaging profile set", { number: id, profile: carrier.assignments.get(id) ?? null });
      return {
        data: {
          record_type: "messaging_settings",
          phone_number: id,
          messaging_profile_id: carrier.assignments.get(id) ?? null,
          type: "long-code",
          updated_at: new Date().toISOString(),
        },
      };
    }

    if (collection === "available_phone_numbers" && id === undefined && method === "GET") {
      const found = searchInventory(shop, query);
      return { data: found.map(availableRecord), meta: { total_results: found.length, best_effort_results: 0 } };
    }

    if (collection === "number_orders" && id === undefined && method === "POST") {
      const body = await readJsonObject(req, MAX_BODY_BYTES, API_ERRORS);
      const phoneNumbers = orderedNumbersField(body);
      const customerReference = optionalStringField(body, "customer_reference");
      const profileId = optionalStringField(body, "messaging_profile_id");
      if (profileId !== null && !carrier.profiles.has(profileId)) throw noSuchProfile();
      return { data: orderRecord(shop.order(phoneNumbers, customerReference, profileId)) };
    }

    if (collection === "number_orders" && id !== undefined && sub === undefined && method === "GET") {
      const order = shop.orders.get(id);
      if (!order) throw notFound(`no number order ${id}`);
      return { data: orderRecord(order) };
    }

    if (collection === "phone_numbers" && id === undefined && method === "GET") {
      // Digits anywhere in the number (a leading + allowed); a filter with other characters finds nothing, as Telnyx's.
      const filter = query.get("filter[phone_number]")?.trim().replace(/^\+/, "") ?? null;
      const reference = query.get("filter[customer_reference]");
      const owned = shop
        .ownedNumbers()
        .filter((n) => filter === null || (/^\d+$/.test(filter) && n.phoneNumber.includes(filter)))
        .filter((n) => reference === null || shop.record(n).customer_reference === reference);
      return paged(
        owned.map((n) => shop.record(n)),
        query,
      );
    }

    if (collection === "phone_numbers" && id !== undefined && sub === undefined && method === "DELETE") {
      const released = shop.release(id);
      if (!released) throw notFound(`no phone number ${id} on this account`);
      return { data: shop.record(released, "deleted") };
    }

    if (collection === "messages" && id === undefined && method === "POST") {
      const body = await readJsonObject(req, MAX_BODY_BYTES, API_ERRORS);
      const from = numberField(body, "from");
      const to = numberField(body, "to");
      const text = textField(body);
      // Telnyx sends only from numbers on a messaging profile.
      if (!carrier.assignments.has(from)) {
        throw new ApiError(
          422,
          "40013",
          "Invalid source number",
          "from is not assigned to a messaging profile on this account",
          { pointer: "/from" },
        );
      }
      return { data: carrier.accept(from, to, text) };
    }

    throw notFound(`no ${method} ${req.url ?? ""}`);
  }

  const api = await serveJsonApi({
    name: "local SMS",
    host,
    port: opts.port ?? 0,
    log,
    errors: API_ERRORS,
    route: async (req, path, query) => ({ status: 200, body: await route(req, path, query) }),
  });
  const url = api.url;
  log?.info("local SMS up", { url });

  return {
    url,
    apiKey,
    webhookPublicKey,
    phone(number: string): LocalPhone {
      if (!E164.test(number)) throw new Error(`"${number}" is not a phone number in +E.164 form, like +15550100000`);
      const inbox = carrier.inbox(number);
      return {
        number,
        send: async (to, text) => {
          carrier.accept(number, numberField({ to }, "to"), textField({ text }));
        },
        messages: () => [...inbox.texts],
        waitForMessage: (pred = () => true, ms = 10_000) => inbox.waitFor(pred, ms),
      };
    },
    async close() {
      stopping.abort();
      carrier.close();
      await api.close();
    },
  };
}
