// Reading a request's fields alone: pure functions, no server. Each refusal
// is checked as Telnyx writes it: status, code and the field it names.
import { describe, expect, it } from "vitest";
import { ApiError } from "./errors.js";
import {
  assignedProfileField,
  numberField,
  numberSearchOf,
  orderedNumbersField,
  ownedNumberFilter,
  textField,
  webhookUrlField,
  whitelistedDestinationsField,
} from "./fields.js";

/** What `fn` threw, as Telnyx's error body. */
function refusal(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, ...err.body().errors[0] };
    throw err;
  }
  throw new Error("not refused");
}

describe("the fields of a request", () => {
  it("takes a phone number in +E.164 form only, naming the field otherwise", () => {
    expect(numberField({ to: "+15550100000" }, "to")).toBe("+15550100000");
    expect(refusal(() => numberField({ to: "5550100000" }, "to"))).toMatchObject({
      status: 422,
      code: "10016",
      source: { pointer: "/to" },
    });
    expect(refusal(() => numberField({}, "from"))).toMatchObject({ code: "10004", detail: "from is required" });
  });

  it("counts a text's length in characters as a person does, an emoji one", () => {
    expect(textField({ text: "👍".repeat(1600) })).toHaveLength(3200);
    expect(refusal(() => textField({ text: "a".repeat(1601) }))).toMatchObject({
      code: "10015",
      source: { pointer: "/text" },
    });
  });

  it("takes an http or https webhook URL, or none for null and an empty string", () => {
    expect(webhookUrlField({ webhook_url: "https://host.example/sms" })).toBe("https://host.example/sms");
    expect(webhookUrlField({ webhook_url: null })).toBeNull();
    expect(webhookUrlField({ webhook_url: "" })).toBeNull();
    expect(refusal(() => webhookUrlField({ webhook_url: "not a url" }))).toMatchObject({ code: "10003" });
    expect(refusal(() => webhookUrlField({ webhook_url: "ftp://host.example/" }))).toMatchObject({
      detail: "webhook_url must be http or https",
    });
  });

  it("takes whitelisted destinations as country codes only", () => {
    expect(whitelistedDestinationsField({ whitelisted_destinations: ["US", "CA"] })).toEqual(["US", "CA"]);
    expect(refusal(() => whitelistedDestinationsField({}))).toMatchObject({ code: "10004" });
    expect(refusal(() => whitelistedDestinationsField({ whitelisted_destinations: ["usa"] }))).toMatchObject({
      code: "10015",
    });
  });

  it("reads a number's profile as an id to look up, or null to take it off its profile", () => {
    expect(assignedProfileField({ messaging_profile_id: "p1" })).toBe("p1");
    expect(assignedProfileField({ messaging_profile_id: null })).toBeNull();
    expect(assignedProfileField({ messaging_profile_id: "" })).toBeNull();
    expect(refusal(() => assignedProfileField({}))).toMatchObject({ code: "10004" });
    expect(refusal(() => assignedProfileField({ messaging_profile_id: 7 }))).toMatchObject({ code: "10017" });
  });

  it("takes an order's numbers as a list of at least one, naming the line that is not a number", () => {
    expect(orderedNumbersField({ phone_numbers: [{ phone_number: "+15550110000" }] })).toEqual(["+15550110000"]);
    expect(refusal(() => orderedNumbersField({ phone_numbers: [] }))).toMatchObject({ code: "10015" });
    expect(
      refusal(() => orderedNumbersField({ phone_numbers: [{ phone_number: "+15550110000" }, { phone_number: "1" }] })),
    ).toMatchObject({ code: "10016", source: { pointer: "/phone_numbers/1/phone_number" } });
  });
});

describe("a number search's filters", () => {
  it("searches ten US numbers by default, with the features and the start of the national number asked", () => {
    expect(numberSearchOf(new URLSearchParams())).toEqual({ country: "US", features: [], limit: 10, startsWith: "" });
    const asked = new URLSearchParams(
      "filter[country_code]=us&filter[features][]=sms&filter[features]=voice,mms&filter[limit]=100&filter[phone_number][starts_with]=555",
    );
    expect(numberSearchOf(asked)).toEqual({
      country: "US",
      features: ["sms", "voice", "mms"],
      limit: 100,
      startsWith: "555",
    });
  });

  it("refuses a limit outside 1 to 100 and a start that is not digits, naming the parameter", () => {
    for (const limit of ["0", "101", "1.5", "ten"])
      expect(refusal(() => numberSearchOf(new URLSearchParams({ "filter[limit]": limit })))).toMatchObject({
        source: { parameter: "filter[limit]" },
      });
    expect(
      refusal(() => numberSearchOf(new URLSearchParams({ "filter[phone_number][starts_with]": "+1555" }))),
    ).toMatchObject({ source: { parameter: "filter[phone_number][starts_with]" } });
  });
});

describe("ownedNumberFilter", () => {
  const owned = (phoneNumber: string, customerReference: string | null = null) => ({
    id: "1",
    phoneNumber,
    customerReference,
    createdAt: "",
  });

  it("matches digits anywhere in the number, a leading + allowed, and nothing for other characters", () => {
    const match = (filter: string) => ownedNumberFilter(new URLSearchParams({ "filter[phone_number]": filter }));
    expect(match("0110")(owned("+15550110000"))).toBe(true);
    expect(match("+1555")(owned("+15550110000"))).toBe(true);
    expect(match("9999")(owned("+15550110000"))).toBe(false);
    expect(match("555-0110")(owned("+15550110000"))).toBe(false);
  });

  it("matches the whole customer reference, and every number without filters", () => {
    const byRef = ownedNumberFilter(new URLSearchParams({ "filter[customer_reference]": "agent-1" }));
    expect(byRef(owned("+15550110000", "agent-1"))).toBe(true);
    expect(byRef(owned("+15550110000", "agent-12"))).toBe(false);
    expect(ownedNumberFilter(new URLSearchParams())(owned("+15550110000"))).toBe(true);
  });
});
