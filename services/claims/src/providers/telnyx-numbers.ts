// The production phone-number provider: buys a number per instance from
// Telnyx (search, number order, wait for the order to complete) and gives it
// back (deletes it) on release. The tests run it against the local stand-in
// (local-providers sms/), which speaks the same number-ordering API.
//
// The API key stays in the claims service: the instance host texts with a
// key of its own and puts the number on its messaging profile itself, so
// the instance gets the number alone. Each order carries the instance id as
// its customer reference, so a number can be traced to its agent in
// Telnyx's portal, even one whose order completed after we stopped waiting.
import { setTimeout as sleep } from "node:timers/promises";
import { callProviderApi, type ProviderAnswer } from "./provider-api.js";
import { ProvisioningError, type ProvisionedResource, type ToolProvider } from "./types.js";

export interface TelnyxNumberOptions {
  /** https://api.telnyx.com, or the stand-in's url; `/v2/...` is appended. */
  apiUrl: string;
  /** A secret: never in errors, never given to instances. */
  apiKey: string;
  /** Where numbers are bought, ISO 3166-1 alpha-2; default "US". */
  countryCode?: string | undefined;
  /** Telnyx puts each number on this profile when its order completes; default none (the instance host does it). */
  messagingProfileId?: string | undefined;
  /** How long an order may take to complete; default 30 s. */
  orderTimeoutMs?: number | undefined;
  /** The wait before a retry, doubled for each next one; default the kit's HttpClient's (tests shorten it). */
  retryBackoffMs?: number | undefined;
}

/** Numbers asked for per search: a few, so that one ordered by someone else meanwhile has a successor. */
const CANDIDATES = 5;
/** Searches before giving up when every number found was ordered by someone else first. */
const SEARCHES = 3;
/** The first wait before asking how an order stands, doubled each time up to the last. */
const POLL_MS = { first: 200, last: 2_000 };

interface TelnyxErrorBody {
  errors?: { title?: string; detail?: string; source?: { pointer?: string } }[];
}

type Answer = ProviderAnswer<{ data?: unknown } & TelnyxErrorBody>;

interface NumberOrder {
  id: string;
  status: string;
}

export class TelnyxNumberProvider implements ToolProvider {
  readonly toolId = "sms";
  readonly name = "telnyx";
  private readonly apiUrl: string;
  private readonly countryCode: string;
  private readonly orderTimeoutMs: number;

  constructor(private readonly opts: TelnyxNumberOptions) {
    this.apiUrl = opts.apiUrl.replace(/\/+$/, "");
    this.countryCode = opts.countryCode ?? "US";
    this.orderTimeoutMs = opts.orderTimeoutMs ?? 30_000;
  }

  async provision(instanceId: string): Promise<ProvisionedResource> {
    for (let search = 0; search < SEARCHES; search++) {
      const candidates = await this.search();
      if (candidates.length === 0)
        throw new ProvisioningError(`Telnyx has no ${this.countryCode} number with SMS for sale`, "exhausted");
      for (const number of candidates) {
        const order = await this.order(number, instanceId);
        if (!order) continue; // ordered by someone else since the search
        await this.completion(order, number, instanceId);
        // No secrets: the instance host has its own API key.
        return { handle: number, secrets: {} };
      }
    }
    throw new ProvisioningError(
      `every ${this.countryCode} number Telnyx offered was ordered by someone else first, ${SEARCHES} times; try again`,
      "unavailable",
    );
  }

  async release(handle: string): Promise<void> {
    const query = new URLSearchParams({ "filter[phone_number]": handle, "page[size]": "250" });
    const owned = this.data<{ id: string; phone_number: string }[]>(
      await this.call("GET", `/v2/phone_numbers?${query.toString()}`),
      `to look up ${handle}`,
    );
    // The filter may match more loosely than the number itself.
    const mine = owned.find((n) => n.phone_number === handle);
    if (!mine) return; // not the account's (any more): released already
    const deleted = await this.call("DELETE", `/v2/phone_numbers/${encodeURIComponent(mine.id)}`);
    if (deleted.status !== 404) this.data(deleted, `to release ${handle}`);
  }

  /** The account's numbers ordered under this instance id (their customer reference), each deleted. */
  async releaseAllOf(instanceId: string): Promise<number> {
    const query = new URLSearchParams({ "filter[customer_reference]": instanceId, "page[size]": "250" });
    const owned = this.data<{ id: string; customer_reference?: string }[]>(
      await this.call("GET", `/v2/phone_numbers?${query.toString()}`),
      `to look up the numbers of ${instanceId}`,
    );
    let released = 0;
    for (const n of owned.filter((x) => x.customer_reference === instanceId)) {
      const deleted = await this.call("DELETE", `/v2/phone_numbers/${encodeURIComponent(n.id)}`);
      if (deleted.status !== 404) this.data(deleted, `to release a number of ${instanceId}`);
      released++;
    }
    return released;
  }

  /** Numbers for sale that can text, in Telnyx's order. */
  private async search(): Promise<string[]> {
    const query = new URLSearchParams({
      "filter[country_code]": this.countryCode,
      "filter[features][]": "sms",
      "filter[limit]": String(CANDIDATES),
    });
    const found = this.data<{ phone_number: string }[]>(
      await this.call("GET", `/v2/available_phone_numbers?${query.toString()}`),
      "the number search",
    );
    return found.map((n) => n.phone_number);
  }

  /** The order, or null when the number is no longer for sale. */
  private async order(number: string, instanceId: string): Promise<NumberOrder | null> {
    const answer = await this.call("POST", "/v2/number_orders", {
      phone_numbers: [{ phone_number: number }],
      customer_reference: instanceId,
      ...(this.opts.messagingProfileId ? { messaging_profile_id: this.opts.messagingProfileId } : {}),
    });
    const pointer = answer.body.errors?.[0]?.source?.pointer;
    if (answer.status === 422 && (pointer === undefined || pointer.startsWith("/phone_numbers"))) return null;
    return this.data<NumberOrder>(answer, `to order ${number}`);
  }

  /** Waits for the order to succeed. A failed look meanwhile is asked again: the order stands whatever we hear. */
  private async completion(order: NumberOrder, number: string, instanceId: string): Promise<void> {
    const deadline = Date.now() + this.orderTimeoutMs;
    let lastFailure = "";
    for (let wait = POLL_MS.first; order.status !== "success"; wait = Math.min(wait * 2, POLL_MS.last)) {
      if (order.status === "failure")
        throw new ProvisioningError(
          `Telnyx could not complete the order of ${number} (order ${order.id})`,
          "unavailable",
        );
      if (Date.now() + wait > deadline) {
        throw new ProvisioningError(
          `the order of ${number} (order ${order.id}, customer reference ${instanceId}) did not complete within ${this.orderTimeoutMs} ms${lastFailure}; ` +
            "it may still complete: release the number in Telnyx's portal if so",
          "unavailable",
        );
      }
      await sleep(wait);
      try {
        order = this.data<NumberOrder>(
          await this.call("GET", `/v2/number_orders/${encodeURIComponent(order.id)}`),
          "to show the order",
        );
      } catch (err) {
        lastFailure = ` (last look: ${(err as Error).message})`;
      }
    }
  }

  /** A look or a delete is sent again after a failure that may pass (the kit's HttpClient); an order never. */
  private call(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<Answer> {
    return callProviderApi(
      "Telnyx",
      { apiUrl: this.apiUrl, apiKey: this.opts.apiKey, backoffMs: this.opts.retryBackoffMs },
      method,
      path,
      body,
    );
  }

  /** The answer's data, or why Telnyx refused; `what` completes "Telnyx refused ...". */
  private data<T>(answer: Answer, what: string): T {
    if (answer.status >= 200 && answer.status < 300 && answer.body.data !== undefined) return answer.body.data as T;
    if (answer.status === 401) throw new ProvisioningError("Telnyx refused the API key", "unavailable");
    const first = answer.body.errors?.[0];
    const words = [first?.title, first?.detail].filter((s): s is string => typeof s === "string" && s.length > 0);
    // Masked should Telnyx ever echo the key.
    const reason = (words.length ? words.join(": ") : `HTTP ${answer.status}`).replaceAll(
      this.opts.apiKey,
      "[the API key]",
    );
    throw new ProvisioningError(`Telnyx refused ${what}: ${reason}`, "unavailable");
  }
}
