// The HTTP API: each endpoint's handler over the carrier and the number
// shop, once routing.ts has named the endpoint a request asks for.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Logger } from "@convos-pool/kit/server";
import { hasBearer, isLoopback, readJsonObject } from "../json-api.js";
import type { Carrier } from "./carrier.js";
import {
  ApiError,
  API_ERRORS,
  noSuchProfile,
  notANumber,
  notFound,
  notLoopback,
  notOnProfile,
  unauthenticated,
} from "./errors.js";
import {
  assignedProfileField,
  E164,
  numberField,
  numberSearchOf,
  optionalStringField,
  orderedNumbersField,
  ownedNumberFilter,
  stringField,
  textField,
  webhookUrlField,
  whitelistedDestinationsField,
} from "./fields.js";
import type { NumberShop } from "./numbers.js";
import {
  availableRecord,
  messagingSettingsRecord,
  orderRecord,
  paged,
  profileRecord,
  type Profile,
} from "./records.js";
import { smsRouteOf } from "./routing.js";

const MAX_BODY_BYTES = 64 * 1024;

export interface SmsRouterDeps {
  carrier: Carrier;
  shop: NumberShop;
  apiKey: string;
  log?: Logger | undefined;
}

/** The handler of every request: its answer's body (status 200), or an ApiError. */
export function createSmsRouter({ carrier, shop, apiKey, log }: SmsRouterDeps) {
  /** Each send's answer by its Idempotency-Key (Telnyx keeps them 24 hours; this stand-in until it stops). */
  const sent = new Map<string, { same: string; answer: unknown }>();
  return async function route(req: IncomingMessage, path: string[], query: URLSearchParams): Promise<unknown> {
    const method = req.method ?? "GET";
    const body = () => readJsonObject(req, MAX_BODY_BYTES, API_ERRORS);
    const noRoute = () => notFound(`no ${method} ${req.url ?? ""}`);
    const r = smsRouteOf(method, path);

    if (r.kind === "phone") {
      if (!isLoopback(req.socket.remoteAddress)) throw notLoopback();
      if (!E164.test(r.number))
        throw notANumber("the phone must be a number in +E.164 form", { parameter: "phone_number" });
      if (method === "GET") return { data: carrier.inbox(r.number).texts };
      if (method === "POST") {
        const b = await body();
        return { data: carrier.accept(r.number, numberField(b, "to"), textField(b)) };
      }
      throw noRoute();
    }
    if (r.kind === "outside") throw noRoute();
    if (!hasBearer(req, apiKey)) throw unauthenticated();

    switch (r.kind) {
      case "createProfile": {
        const b = await body();
        const name = stringField(b, "name");
        const whitelistedDestinations = whitelistedDestinationsField(b);
        const now = new Date().toISOString();
        const profile: Profile = {
          id: randomUUID(),
          name,
          webhookUrl: webhookUrlField(b),
          whitelistedDestinations,
          createdAt: now,
          updatedAt: now,
        };
        carrier.profiles.set(profile.id, profile);
        log?.info("messaging profile created", { id: profile.id, name });
        return { data: profileRecord(profile) };
      }
      case "listProfiles": {
        const name = query.get("filter[name]");
        return paged(
          [...carrier.profiles.values()].filter((p) => name === null || p.name === name).map(profileRecord),
          query,
        );
      }
      case "updateProfile": {
        const profile = carrier.profiles.get(r.id);
        if (!profile) throw notFound(`no messaging profile ${r.id}`);
        const b = await body();
        // Both checked before either changes.
        const name = b.name === undefined ? profile.name : stringField(b, "name");
        const webhookUrl = b.webhook_url === undefined ? profile.webhookUrl : webhookUrlField(b);
        Object.assign(profile, { name, webhookUrl });
        profile.updatedAt = new Date().toISOString();
        return { data: profileRecord(profile) };
      }
      case "setNumberProfile": {
        const number = r.number;
        if (!E164.test(number))
          throw notANumber("the phone number in the path must be in +E.164 form", { parameter: "id" });
        const profileId = assignedProfileField(await body());
        if (profileId === null) carrier.assignments.delete(number);
        else if (carrier.profiles.has(profileId)) carrier.assignments.set(number, profileId);
        else throw noSuchProfile();
        log?.info("number's messaging profile set", { number, profile: carrier.profileOf(number) });
        return { data: messagingSettingsRecord(number, carrier.profileOf(number), new Date().toISOString()) };
      }
      case "searchNumbers": {
        const found = shop.search(numberSearchOf(query));
        return { data: found.map(availableRecord), meta: { total_results: found.length, best_effort_results: 0 } };
      }
      case "orderNumbers": {
        const b = await body();
        const phoneNumbers = orderedNumbersField(b);
        const customerReference = optionalStringField(b, "customer_reference");
        const profileId = optionalStringField(b, "messaging_profile_id");
        if (profileId !== null && !carrier.profiles.has(profileId)) throw noSuchProfile();
        return { data: orderRecord(shop.order(phoneNumbers, customerReference, profileId)) };
      }
      case "getOrder": {
        const order = shop.orders.get(r.id);
        if (!order) throw notFound(`no number order ${r.id}`);
        return { data: orderRecord(order) };
      }
      case "listNumbers":
        return paged(
          shop
            .ownedNumbers()
            .filter(ownedNumberFilter(query))
            .map((n) => shop.record(n)),
          query,
        );
      case "releaseNumber": {
        const released = shop.release(r.id);
        if (!released) throw notFound(`no phone number ${r.id} on this account`);
        return { data: shop.record(released, "deleted") };
      }
      case "sendMessage": {
        const b = await body();
        const from = numberField(b, "from");
        const to = numberField(b, "to");
        const text = textField(b);
        // Telnyx sends only from numbers on a messaging profile.
        if (!carrier.assignments.has(from)) throw notOnProfile();
        // Telnyx's Idempotency-Key: the same send again is answered as the first, sending nothing more.
        const key = req.headers["idempotency-key"];
        const same = JSON.stringify({ from, to, text });
        const before = typeof key === "string" ? sent.get(key) : undefined;
        if (before && before.same !== same)
          throw new ApiError(422, "10015", "Bad Request", "the Idempotency-Key was used with another request");
        if (before) return before.answer;
        const answer = { data: carrier.accept(from, to, text) };
        if (typeof key === "string") sent.set(key, { same, answer });
        return answer;
      }
      case "unknown":
        throw noRoute();
    }
  };
}
