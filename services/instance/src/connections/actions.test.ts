// The writes an agent may ask of a phone (actions.ts): arguments checked and
// tagged as Convos' schemas want them, and a write asked for only by the
// words of the person's own message.
import { describe, expect, it } from "vitest";
import { asksFor, PHONE_ACTIONS, PhoneInputError, wireArguments } from "./actions.js";

const add = PHONE_ACTIONS.add_calendar_event!;
const remove = PHONE_ACTIONS.delete_calendar_event!;
const move = PHONE_ACTIONS.update_calendar_event!;
const contact = PHONE_ACTIONS.add_contact!;

describe("a write's arguments", () => {
  it("tagged for the wire, with the schema's names", () => {
    expect(
      wireArguments(add, {
        title: " Flight TP 1234 ",
        start: "2026-05-01T15:00:00-07:00",
        end: "2026-05-01T17:00:00-07:00",
        time_zone: "America/Los_Angeles",
      }),
    ).toEqual({
      title: { type: "string", value: "Flight TP 1234" },
      startDate: { type: "iso8601", value: "2026-05-01T15:00:00-07:00" },
      endDate: { type: "iso8601", value: "2026-05-01T17:00:00-07:00" },
      timeZone: { type: "string", value: "America/Los_Angeles" },
    });
    expect(wireArguments(remove, { event_id: "evt-1", span: "thisEvent" })).toEqual({
      eventId: { type: "string", value: "evt-1" },
      span: { type: "enum", value: "thisEvent" },
    });
  });

  it("refused with the argument named: missing, malformed, out of order", () => {
    const bad =
      (raw: Record<string, unknown>, action = add) =>
      () =>
        wireArguments(action, raw);
    const ok = { title: "x", start: "2026-05-01T15:00:00Z", end: "2026-05-01T16:00:00Z", time_zone: "UTC" };
    expect(bad({ ...ok, title: "" })).toThrow(new PhoneInputError("title is required"));
    expect(bad({ ...ok, start: "tomorrow at 3" })).toThrow(/^start must be an RFC 3339/);
    expect(bad({ ...ok, start: "2026-05-01T15:00:00" })).toThrow(/^start must be/);
    expect(bad({ ...ok, time_zone: "Mars/Olympus" })).toThrow("time_zone is not a known time zone");
    expect(bad({ ...ok, end: "2026-05-01T14:00:00Z" })).toThrow("end is before start");
    expect(bad({ ...ok, title: "x".repeat(201) })).toThrow("title is longer than 200 characters");
    expect(bad({ event_id: "e", span: "everything" }, remove)).toThrow("span must be one of thisEvent, futureEvents");
    expect(bad({ event_id: "e", start: "2026-05-01T15:00:00Z" }, move)).toThrow("time_zone is required with a time");
    expect(bad({ given_name: 7 }, contact)).toThrow("given_name must be text");
  });
});

describe("a write asked for in the person's own words", () => {
  it("a verb of its capability and a word of its kind", () => {
    expect(asksFor(add, "Please add the flight to my calendar")).toBe(true);
    expect(asksFor(add, "put dinner with Sam in my calendar for Friday at 8")).toBe(true);
    expect(asksFor(remove, "cancel the dentist appointment")).toBe(true);
    expect(asksFor(move, "move my 3pm meeting to 4")).toBe(true);
    expect(asksFor(contact, "save Rita as a contact: rita@example.com")).toBe(true);
  });

  it("not a question, another write, or a word of another kind", () => {
    expect(asksFor(add, "when am I free on Tuesday?")).toBe(false);
    expect(asksFor(remove, "add the flight to my calendar")).toBe(false);
    expect(asksFor(add, "delete all my events")).toBe(false);
    expect(asksFor(contact, "add the flight to my calendar")).toBe(false);
    expect(asksFor(add, "book a table")).toBe(false);
  });
});
