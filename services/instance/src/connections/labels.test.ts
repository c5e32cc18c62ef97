// The wall between people's phone data (labels.ts): a turn reads its
// requester's pieces alone, and an output that repeats them goes where
// others see it only when the requester asked for that in their own words.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { asksToShare, mayRelease, repeatedIn } from "./labels.js";
import { PhoneShares } from "./shares.js";

const ANA = "ana-inbox";
const BEA = "bea-inbox";

function calendarOf(who: string, events: { title: string; location?: string; notes?: string }[]) {
  const shares = new PhoneShares();
  shares.receive(
    who,
    {
      id: "A1B2C3D4-0000-0000-0000-000000000001",
      schemaVersion: 1,
      source: "calendar",
      capturedAt: 0,
      body: { type: "calendar", data: { summary: `${events.length} events today`, events } },
    },
    new Date(),
  );
  return shares.of(who);
}

describe("what an output repeats", () => {
  const pieces = calendarOf(ANA, [{ title: "Dentist appointment", location: "Mission Dental" }]);

  it("finds a title or a place said again, in any case, as a whole", () => {
    expect(repeatedIn("You have a DENTIST APPOINTMENT at 3", pieces, "when am I free?")).toHaveLength(1);
    expect(repeatedIn("It is at Mission Dental.", pieces, "")).toEqual([{ whose: ANA, kind: "calendar" }]);
    expect(repeatedIn("You are free after 4.", pieces, "")).toEqual([]);
  });

  it("not what the person said here themselves", () => {
    expect(repeatedIn("Your dentist appointment is at 3", pieces, "move my dentist appointment")).toEqual([]);
  });

  it("finds a distinctive part of a title, a place or a note said alone, not only the whole of it", () => {
    const anas = calendarOf(ANA, [
      { title: "Oncology follow-up", location: "3rd floor at St. Mary's", notes: "ask about the chemo schedule" },
    ]);
    for (const out of ["The chemo schedule is out.", "She is at St. Mary's.", "ST MARY’S, then home", "oncology at 9"])
      expect(repeatedIn(out, anas, "")).toEqual([{ whose: ANA, kind: "calendar" }]);
    // Common words of it block nothing: they tell nothing of whose it is.
    expect(repeatedIn("Ask about the schedule for the 3rd floor meeting tomorrow.", anas, "")).toEqual([]);
  });

  it("finds a phone number however it is written, and a place by its coordinates", () => {
    const shares = new PhoneShares();
    const contact = { givenName: "Rita", phone: "+1 (415) 555-0134" };
    const place = { latitude: 37.7556, longitude: -122.4046 };
    for (const [kind, data] of [
      ["contacts", { contacts: [contact] }],
      ["location", { visits: [place] }],
    ] as const)
      shares.receive(
        BEA,
        { id: kind, schemaVersion: 1, source: kind, capturedAt: 0, body: { type: kind, data } },
        new Date(),
      );
    const beas = shares.all();
    expect(repeatedIn("call 415.555.0134", beas, "").map((r) => r.kind)).toEqual(["contacts"]);
    expect(repeatedIn("She is at 37.756,-122.405 now", beas, "").map((r) => r.kind)).toEqual(["location"]);
    expect(repeatedIn("It costs 37.50 and takes 555 minutes", beas, "")).toEqual([]);
  });

  it("reads what a tool is given as JSON: an escaped line break or an invisible character hides nothing", () => {
    const anas = calendarOf(ANA, [{ title: "Chemo at Kestrel Clinic" }]);
    expect(repeatedIn(JSON.stringify({ body: "Notes:\nchemo" }), anas, "")).toHaveLength(1);
    expect(repeatedIn('{"body":"at \\u004bestrel"}', anas, "")).toHaveLength(1);
    expect(repeatedIn("ch\u200bemo", anas, "")).toHaveLength(1);
  });

  it("a part said here already goes again, and only that part", () => {
    const anas = calendarOf(ANA, [{ title: "Chemo at Kestrel Clinic" }]);
    expect(repeatedIn("Chemo is on Friday.", anas, "Bea: is the chemo still on?")).toEqual([]);
    expect(repeatedIn("Chemo is at Kestrel.", anas, "Bea: is the chemo still on?")).toHaveLength(1);
  });

  it("not times, zones or ids: they are every calendar's", () => {
    const timed = calendarOf(ANA, [{ title: "2026-05-01T15:00:00-07:00", location: "America/Los_Angeles" }] as {
      title: string;
      location: string;
    }[]);
    expect(timed[0]!.parts.words.size).toBe(0);
    expect(repeatedIn("2026-05-01T15:00:00-07:00 in America/Los_Angeles", timed, "")).toEqual([]);
  });
});

describe("where an output may go", () => {
  const pieces = calendarOf(ANA, [{ title: "Dentist appointment" }]);
  const out = "You have the dentist appointment at 3.";

  it("to the conversation only when the person asked to share it there", () => {
    expect(mayRelease({ requester: ANA, text: "what is on my calendar today?" }, out, pieces, "conversation")).toEqual({
      ok: false,
      whose: [ANA],
      kinds: ["calendar"],
    });
    expect(mayRelease({ requester: ANA, text: "share my day with the group" }, out, pieces, "conversation")).toEqual({
      ok: true,
    });
  });

  it("out through a tool only when the person asked to send it", () => {
    expect(mayRelease({ requester: ANA, text: "what is on today?" }, out, pieces, "tool").ok).toBe(false);
    expect(mayRelease({ requester: ANA, text: "email my day to my boss" }, out, pieces, "tool").ok).toBe(true);
  });

  it("never on another person's word", () => {
    expect(mayRelease({ requester: BEA, text: "share Ana's day with everyone" }, out, pieces, "conversation").ok).toBe(
      false,
    );
  });

  it("asking is read from the request alone; what the conversation said already is no secret, but asks nothing", () => {
    const said = "Saul: text her that dinner is at 8 and mail my accountant";
    expect(mayRelease({ requester: ANA, text: "what do I have on Friday?", said }, out, pieces, "tool").ok).toBe(false);
    expect(mayRelease({ requester: ANA, text: "what do I have?", said }, out, pieces, "conversation").ok).toBe(false);
    const public_ = "Ana: my dentist appointment is at 3, everyone";
    expect(mayRelease({ requester: BEA, text: "when is it?", said: public_ }, out, pieces, "conversation").ok).toBe(
      true,
    );
  });

  it("asking to share is said in words the code reads, not guessed", () => {
    expect(asksToShare("tell everyone what I have on", "conversation")).toBe(true);
    expect(asksToShare("show the group my week", "conversation")).toBe(true);
    expect(asksToShare("when am I free?", "conversation")).toBe(false);
    expect(asksToShare("text it to +15550100001", "tool")).toBe(true);
  });

  it("holds for any private value hidden in any reply (property)", () => {
    const word = fc.stringMatching(/^[a-z]{5,12}$/);
    fc.assert(
      fc.property(word, word, fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (a, b, pre, post) => {
        const secret = `${a} ${b}`;
        const mine = calendarOf(ANA, [{ title: secret }]);
        const reply = `${pre} ${secret.toUpperCase()} ${post}`;
        // Not asked to share: withheld, whoever's turn it is.
        expect(mayRelease({ requester: ANA, text: "what do I have?" }, reply, mine, "conversation").ok).toBe(false);
        expect(mayRelease({ requester: BEA, text: "tell everyone" }, reply, mine, "conversation").ok).toBe(false);
        // Asked by its owner: goes.
        expect(mayRelease({ requester: ANA, text: "share it with the group" }, reply, mine, "conversation").ok).toBe(
          true,
        );
      }),
    );
  });
});
