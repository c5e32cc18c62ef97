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
//
// Its files, one job each: routing.ts (which endpoint a request asks for), routes.ts (the
// endpoints' handlers), carrier.ts (profiles and delivery), webhooks.ts
// (signed webhooks and their retries), phones.ts (the local phones),
// numbers.ts (numbers for sale and owned), fields.ts (reading a request),
// records.ts (Telnyx's JSON), encoding.ts (SMS parts), errors.ts.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import type { Logger } from "@convos-pool/kit/server";
import { serveJsonApi } from "../json-api.js";
import { Carrier } from "./carrier.js";
import { API_ERRORS } from "./errors.js";
import { E164, numberField, textField } from "./fields.js";
import { DEFAULT_SMS_INVENTORY, NumberShop, parseInventory } from "./numbers.js";
import type { LocalPhone } from "./phones.js";
import { createSmsRouter } from "./routes.js";
import { rawPublicKey } from "./webhooks.js";

export { DEFAULT_SMS_INVENTORY } from "./numbers.js";
export type { LocalPhone, LocalText } from "./phones.js";

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

export interface LocalSms {
  /** http://host:port: the API's base, as https://api.telnyx.com is Telnyx's. */
  url: string;
  apiKey: string;
  /** The ed25519 key that verifies webhooks: base64 of its raw 32 bytes, as Telnyx's portal shows it. */
  webhookPublicKey: string;
  phone(number: string): LocalPhone;
  close(): Promise<void>;
}

export async function startLocalSms(opts: LocalSmsOptions = {}): Promise<LocalSms> {
  const host = opts.host ?? "127.0.0.1";
  const apiKey = opts.apiKey ?? `KEYlocal_${randomBytes(24).toString("base64url")}`;
  const log = opts.log;
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const stopping = new AbortController();
  const carrier = new Carrier(privateKey, stopping.signal, log);
  const shop = new NumberShop(parseInventory(opts.inventory ?? DEFAULT_SMS_INVENTORY), carrier, stopping.signal, log);
  const route = createSmsRouter({ carrier, shop, apiKey, log });

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
    webhookPublicKey: rawPublicKey(publicKey),
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
