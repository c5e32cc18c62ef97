// The writes an agent may ask of a person's phone, as Convos' action
// schemas define them (the Convos CLI's SKILL.md, "Calendar action schemas";
// contacts' create_contact): each function the model is offered, the kind
// and action it becomes, the capability it takes, and its arguments checked
// and tagged as the wire wants them. Schemas do not travel on the wire: an
// agent must know them, and these are the ones it knows.

import type { ArgumentValue, ConnectionCapability, ConnectionKind } from "@convos-pool/convos";

/** A function's argument: what the model is told, whether it must be there, and its wire type. */
interface Arg {
  wire: string;
  type: "string" | "iso8601" | "enum" | "bool";
  description: string;
  required?: boolean;
  max?: number;
  allowed?: readonly string[];
}

export interface PhoneAction {
  kind: ConnectionKind;
  action: string;
  capability: ConnectionCapability;
  /** What it does, for the model: whose phone is always the requester's. */
  description: string;
  args: Readonly<Record<string, Arg>>;
  /** What the device answers on success that the model may use next (an event's id). */
  outputs: readonly string[];
}

const ISO = "RFC 3339 time with its offset, for example 2026-05-01T15:00:00-07:00";
const SPAN = ["thisEvent", "futureEvents"] as const;

export const PHONE_ACTIONS: Readonly<Record<string, PhoneAction>> = {
  add_calendar_event: {
    kind: "calendar",
    action: "create_event",
    capability: "write_create",
    description: "Add an event to the calendar on the phone of the person whose message you are answering.",
    args: {
      title: { wire: "title", type: "string", description: "the event's title", required: true, max: 200 },
      start: { wire: "startDate", type: "iso8601", description: ISO, required: true },
      end: { wire: "endDate", type: "iso8601", description: ISO, required: true },
      time_zone: { wire: "timeZone", type: "string", description: "IANA zone, e.g. Europe/Lisbon", required: true },
      location: { wire: "location", type: "string", description: "where, if said", max: 200 },
      notes: { wire: "notes", type: "string", description: "notes, if any", max: 2_000 },
    },
    outputs: ["eventId", "calendarId"],
  },
  update_calendar_event: {
    kind: "calendar",
    action: "update_event",
    capability: "write_update",
    description: "Change an event on the calendar of the person whose message you are answering.",
    args: {
      event_id: { wire: "eventId", type: "string", description: "the event's id", required: true, max: 512 },
      title: { wire: "title", type: "string", description: "a new title", max: 200 },
      start: { wire: "startDate", type: "iso8601", description: ISO },
      end: { wire: "endDate", type: "iso8601", description: ISO },
      time_zone: { wire: "timeZone", type: "string", description: "IANA zone; needed with start or end" },
      location: { wire: "location", type: "string", description: "a new place", max: 200 },
      span: { wire: "span", type: "enum", description: "thisEvent or futureEvents", allowed: SPAN },
    },
    outputs: ["eventId"],
  },
  delete_calendar_event: {
    kind: "calendar",
    action: "delete_event",
    capability: "write_delete",
    description: "Delete an event from the calendar of the person whose message you are answering.",
    args: {
      event_id: { wire: "eventId", type: "string", description: "the event's id", required: true, max: 512 },
      span: { wire: "span", type: "enum", description: "thisEvent or futureEvents", allowed: SPAN },
    },
    outputs: [],
  },
  add_contact: {
    kind: "contacts",
    action: "create_contact",
    capability: "write_create",
    description: "Add a contact to the phone of the person whose message you are answering.",
    args: {
      given_name: { wire: "givenName", type: "string", description: "first name", required: true, max: 100 },
      family_name: { wire: "familyName", type: "string", description: "last name", max: 100 },
      email: { wire: "email", type: "string", description: "an email address", max: 254 },
      phone: { wire: "phone", type: "string", description: "a phone number", max: 32 },
    },
    outputs: [],
  },
};

/** Bad arguments, in words the model can act on. */
export class PhoneInputError extends Error {}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function zoneKnown(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The model's arguments for `a`, checked and tagged for the wire; throws PhoneInputError naming the argument. */
export function wireArguments(a: PhoneAction, raw: Record<string, unknown>): Record<string, ArgumentValue> {
  const out: Record<string, ArgumentValue> = {};
  for (const [name, arg] of Object.entries(a.args)) {
    const v = raw[name];
    if (v === undefined || v === null || v === "") {
      if (arg.required) throw new PhoneInputError(`${name} is required`);
      continue;
    }
    if (typeof v !== "string") throw new PhoneInputError(`${name} must be text`);
    const s = v.trim();
    if (arg.max && s.length > arg.max) throw new PhoneInputError(`${name} is longer than ${arg.max} characters`);
    if (arg.type === "iso8601" && (!RFC3339.test(s) || Number.isNaN(Date.parse(s))))
      throw new PhoneInputError(`${name} must be an ${ISO}`);
    if (arg.wire === "timeZone" && !zoneKnown(s)) throw new PhoneInputError(`${name} is not a known time zone`);
    if (arg.allowed && !arg.allowed.includes(s))
      throw new PhoneInputError(`${name} must be one of ${arg.allowed.join(", ")}`);
    out[arg.wire] = arg.type === "enum" ? { type: "enum", value: s } : { type: arg.type as "string", value: s };
  }
  const time = (v: ArgumentValue | undefined) => (typeof v?.value === "string" ? Date.parse(v.value) : Number.NaN);
  if (time(out.endDate) < time(out.startDate)) throw new PhoneInputError("end is before start");
  if ((out.startDate || out.endDate) && !out.timeZone) throw new PhoneInputError("time_zone is required with a time");
  return out;
}

/** The words in a person's message that ask for each write: the pool reads them, not the model. */
const NOUNS: Readonly<Record<string, RegExp>> = {
  calendar: /\b(calendars?|events?|meetings?|appointments?|agenda)\b/i,
  contacts: /\b(contacts?|address book|phone ?book)\b/i,
};
const VERBS: Readonly<Record<ConnectionCapability, RegExp>> = {
  read: /$^/,
  write_create: /\b(add|put|create|save|schedule|book|set up|store|make)\b/i,
  write_update: /\b(move|change|reschedule|update|rename|shift|push|edit)\b/i,
  write_delete: /\b(delete|remove|cancel|drop|clear|take off)\b/i,
};

/**
 * Whether `text`, the requester's own message, asks for `a`: a verb of its
 * capability and a word of its kind ("add the flight to my calendar",
 * "delete the dentist event"). Nothing else starts a write to a phone: not
 * the model, not a line someone else wrote (docs/connections.md).
 */
export function asksFor(a: PhoneAction, text: string): boolean {
  return VERBS[a.capability].test(text) && (NOUNS[a.kind]?.test(text) ?? false);
}
