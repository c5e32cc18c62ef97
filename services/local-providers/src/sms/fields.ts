// Reading a request as Telnyx reads it: each field of a JSON body or query
// checked, and refused in Telnyx's words naming it. Pure: no state.
import type { JsonObject } from "../json-api.js";
import { invalid, invalidParameter, invalidUrl, missing, noSuchProfile, notANumber } from "./errors.js";
import type { OwnedNumber } from "./records.js";

export const E164 = /^\+[1-9]\d{1,14}$/;
const MAX_TEXT_CHARS = 1600;
const SEARCH_LIMIT = { default: 10, max: 100 };

type Body = JsonObject;

export function stringField(body: Body, field: string): string {
  const value = body[field];
  if (value === undefined || value === null || value === "") throw missing(field);
  if (typeof value !== "string") throw invalid(field, `${field} must be a string`);
  return value;
}

export function optionalStringField(body: Body, field: string): string | null {
  const value = body[field];
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw invalid(field, `${field} must be a string`);
  return value;
}

export function numberField(body: Body, field: string): string {
  const value = stringField(body, field);
  if (!E164.test(value))
    throw notANumber(`${field} must be a phone number in +E.164 form, like +15550100000`, { pointer: `/${field}` });
  return value;
}

/** A webhook URL, or null to have none; only http(s). */
export function webhookUrlField(body: Body): string | null {
  const value = body.webhook_url;
  if (value === null || value === "") return null;
  if (typeof value !== "string") throw invalid("webhook_url", "webhook_url must be a string");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidUrl("webhook_url is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalidUrl("webhook_url must be http or https");
  return value;
}

export function textField(body: Body): string {
  const text = stringField(body, "text");
  // Characters as a person counts them: an emoji is one.
  if ([...text].length > MAX_TEXT_CHARS) throw invalid("text", `text is longer than ${MAX_TEXT_CHARS} characters`);
  return text;
}

/** The countries a profile may text: ISO 3166-1 alpha-2 codes. */
export function whitelistedDestinationsField(body: Body): string[] {
  const destinations = body.whitelisted_destinations;
  if (destinations === undefined) throw missing("whitelisted_destinations");
  if (!Array.isArray(destinations) || !destinations.every((d) => typeof d === "string" && /^[A-Z]{2}$/.test(d))) {
    throw invalid(
      "whitelisted_destinations",
      "whitelisted_destinations must be a list of ISO 3166-1 alpha-2 country codes",
    );
  }
  return destinations as string[];
}

/**
 * The profile a number is put on: an id to look up, or null to take it off
 * its profile. Required; anything but a string names no profile.
 */
export function assignedProfileField(body: Body): string | null {
  if (!("messaging_profile_id" in body)) throw missing("messaging_profile_id");
  const profileId = body.messaging_profile_id;
  if (profileId === null || profileId === "") return null;
  if (typeof profileId !== "string") throw noSuchProfile();
  return profileId;
}

/** The numbers asked for: `[{phone_number}]`, at least one. */
export function orderedNumbersField(body: Body): string[] {
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

/** A search of the numbers for sale (`/v2/available_phone_numbers`), as its filters ask. */
export interface NumberSearch {
  /** Upper case; "US" unless asked. */
  country: string;
  features: string[];
  limit: number;
  /** Digits the national number starts with (without the country code); "" for any. */
  startsWith: string;
}

export function numberSearchOf(query: URLSearchParams): NumberSearch {
  const country = (query.get("filter[country_code]") ?? "US").toUpperCase();
  const features = [
    ...query.getAll("filter[features][]"),
    ...query.getAll("filter[features]").flatMap((f) => f.split(",")),
  ];
  const limitParam = query.get("filter[limit]");
  const limit = limitParam === null ? SEARCH_LIMIT.default : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_LIMIT.max) {
    throw invalidParameter("filter[limit]", `filter[limit] must be a whole number from 1 to ${SEARCH_LIMIT.max}`);
  }
  const startsWith = query.get("filter[phone_number][starts_with]") ?? "";
  if (!/^\d{0,10}$/.test(startsWith)) {
    throw invalidParameter(
      "filter[phone_number][starts_with]",
      "filter[phone_number][starts_with] must be digits of the national number, without the country code",
    );
  }
  return { country, features, limit, startsWith };
}

/**
 * Which of the account's numbers a list shows: `filter[phone_number]` matches
 * digits anywhere in the number (a leading + allowed; other characters match
 * nothing, as Telnyx's), `filter[customer_reference]` the whole reference.
 */
export function ownedNumberFilter(query: URLSearchParams): (n: OwnedNumber) => boolean {
  const digits = query.get("filter[phone_number]")?.trim().replace(/^\+/, "") ?? null;
  const reference = query.get("filter[customer_reference]");
  return (n) =>
    (digits === null || (/^\d+$/.test(digits) && n.phoneNumber.includes(digits))) &&
    (reference === null || n.customerReference === reference);
}
