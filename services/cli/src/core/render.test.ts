// The text a person reads instead of JSON (render.ts): pure, on answers
// shaped as the gateway writes them (docs/rest.md); nothing is stood in.
import { describe, expect, it } from "vitest";
import { cell, columnsOf, enumWord, eth, fieldsText, label, peopleOrder, readable, table, when } from "./render.js";

describe("render", () => {
  it("shows wei as ETH rounded to six decimals, an amount below that as less than its last, and a non-number as it came", () => {
    expect(eth("12500000000000000")).toBe("0.0125 ETH");
    expect(eth("1000000000000000000")).toBe("1 ETH");
    expect(eth("1234567890123456789")).toBe("1.234568 ETH");
    expect(eth("0")).toBe("0 ETH");
    expect(eth("400000000")).toBe("<0.000001 ETH");
    expect(eth("")).toBe("");
    expect(eth("lots")).toBe("lots");
  });

  it("shows an ISO time to the minute in UTC, and other text as it came", () => {
    expect(when("2026-11-29T21:05:32.123Z")).toBe("2026-11-29 21:05 UTC");
    expect(when("2026-11-29T23:05:00+02:00")).toBe("2026-11-29 21:05 UTC");
    expect(when("yesterday")).toBe("yesterday");
    expect(when(null)).toBe("");
  });

  it("says a proto enum's name in words and leaves other capitals alone", () => {
    expect(enumWord("INSTANCE_STATE_ACTIVE")).toBe("active");
    expect(enumWord("SYNC_STATE_CURRENT")).toBe("current");
    expect(enumWord("INHERITANCE_STATE_NOT_SENT")).toBe("not sent");
    expect(enumWord("L3")).toBe("L3");
    expect(enumWord("USD")).toBe("USD");
  });

  it("reads a field by its key's kind: wei as ETH, times readable, yes and no, a list joined, a note on one line", () => {
    expect(cell("amount_wei", "50000000000000000")).toBe("0.05 ETH");
    expect(cell("created_at", "2026-11-29T08:00:00Z")).toBe("2026-11-29 08:00 UTC");
    expect(cell("featured", true)).toBe("yes");
    expect(cell("carry", ["training", "personalization"])).toBe("training, personalization");
    expect(cell("notes", "one\ntwo")).toBe("one two");
    expect(label("amount_wei")).toBe("amount");
    expect(label("created_at")).toBe("created");
    expect(label("agent_name")).toBe("agent name");
  });

  it("puts names first and ids last, the rest as they came", () => {
    expect(peopleOrder(["id", "state", "template_id", "agent_name", "version"])).toEqual([
      "agent_name",
      "state",
      "version",
      "id",
      "template_id",
    ]);
  });

  it("lines a table's columns up under capital headings, the last one not padded", () => {
    expect(
      table(
        ["name", "id"],
        [
          ["Trip Planner", "tmpl_1"],
          ["Ledger", "tmpl_22"],
        ],
      ),
    ).toEqual(["NAME          ID", "Trip Planner  tmpl_1", "Ledger        tmpl_22"]);
  });

  it("cuts the widest column of words with an ellipsis until a line fits the terminal, never below its heading, never an id", () => {
    const rows = [["A very long release note that goes on", "tmpl_1"]];
    const lines = table(["notes", "id"], rows, 20);
    expect(lines).toEqual(["NOTES         ID", "A very long…  tmpl_1"]);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(20);
    // Too narrow: the words' column stops at its heading's width (four at least), the id stays whole.
    expect(table(["notes", "id"], rows, 5)[1]).toBe("A ve…  tmpl_1");
    expect(table(["id", "notes"], [["tmpl_1234567890", "x"]], 8)[1]).toBe("tmpl_1234567890  x");
  });

  it("prints a page as a table of what its rows fill, names first, and the cursor of the next page", () => {
    const page = {
      agents: [
        { id: "inst_1", agent_name: "Trip Planner", state: "INSTANCE_STATE_ACTIVE", pinned: false, tools: [] },
        { id: "inst_2", agent_name: "Ledger", state: "INSTANCE_STATE_PAUSED", pinned: false, tools: [] },
      ],
      next_cursor: "c2",
    };
    expect(readable(page).split("\n")).toEqual([
      "AGENT NAME    STATE   PINNED  ID",
      "Trip Planner  active  no      inst_1",
      "Ledger        paused  no      inst_2",
      "",
      "More: --cursor c2",
    ]);
    expect(readable({ agents: [], next_cursor: null })).toBe("No agents.");
  });

  it("prints one thing as label and value, names first, empty fields left out, what it holds indented", () => {
    const withdrawal = {
      id: "inst_1",
      amount_wei: "12500000000000000",
      to_address: "0xabc",
      transaction_hash: "",
      participation: { mode: "auto", cooldown_seconds: 0 },
      conversations: [{ conversation_id: "c1", conversation_name: "Trip" }],
    };
    expect(fieldsText(withdrawal)).toEqual([
      "amount:      0.0125 ETH",
      "to address:  0xabc",
      "id:          inst_1",
      "participation:",
      "  mode:              auto",
      "  cooldown seconds:  0",
      "conversations:",
      "  CONVERSATION NAME  CONVERSATION ID",
      "  Trip               c1",
    ]);
  });

  it("keeps a list's own id among the columns it picks, however many fields come before it", () => {
    const pattern = {
      pattern_id: "pat_1",
      text: "Always confirm the dates",
      template_id: "tmpl_1",
      created_at: "2026-11-29T10:00:00Z",
      expires_at: "2026-12-29T10:00:00Z",
      offered_count: 1,
      adopted_count: 0,
      owner_count: 0,
      template_count: 1,
      quorum: false,
    };
    expect(columnsOf([pattern])).toEqual([
      "text",
      "created_at",
      "expires_at",
      "offered_count",
      "adopted_count",
      "owner_count",
      "pattern_id",
    ]);
  });

  it("prints what a page says beside its list above it, the list under its name, and text of several lines below its label as it is", () => {
    expect(readable({ patterns: [{ pattern_id: "pat_1", text: "Confirm dates" }], refusals: [], hold: true })).toBe(
      ["hold:  yes", "patterns:", "  TEXT           PATTERN ID", "  Confirm dates  pat_1"].join("\n"),
    );
    expect(readable({ from_version: 1, instructions_diff: "-Plan.\n+Plan trips.\n" })).toBe(
      ["from version:  1", "instructions diff:", "  -Plan.", "  +Plan trips."].join("\n"),
    );
  });
});
