import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { diffLines, sideBySide, type SideRow } from "./diff";

const rebuild = (lines: ReturnType<typeof diffLines>, keep: "removed" | "added") =>
  lines
    .filter((l) => l.kind === "same" || l.kind === keep)
    .map((l) => l.text)
    .join("\n");

describe("diffLines", () => {
  it("marks a changed line as removed and added, and keeps the rest", () => {
    expect(diffLines("a\nb\nc", "a\nB\nc")).toEqual([
      { kind: "same", text: "a" },
      { kind: "removed", text: "b" },
      { kind: "added", text: "B" },
      { kind: "same", text: "c" },
    ]);
  });

  it("finds lines inserted and deleted in the middle", () => {
    const d = diffLines("one\ntwo\nthree\nfour", "one\nthree\nthree and a half\nfour");
    expect(d.filter((l) => l.kind !== "same")).toEqual([
      { kind: "removed", text: "two" },
      { kind: "added", text: "three and a half" },
    ]);
  });

  it("gives back both texts, and is the shortest edit, for any two texts", () => {
    const text = fc.array(fc.constantFrom("a", "b", "c", "d", ""), { maxLength: 30 }).map((l) => l.join("\n"));
    fc.assert(
      fc.property(text, text, (x, y) => {
        const d = diffLines(x, y);
        expect(rebuild(d, "removed")).toBe(x);
        expect(rebuild(d, "added")).toBe(y);
        if (x === y) expect(d.every((l) => l.kind === "same")).toBe(true);
      }),
    );
  });
});

describe("sideBySide", () => {
  const show = (rows: SideRow[]) =>
    rows.map((r) => (r.kind === "skipped" ? `…${r.count}` : `${r.left?.text ?? "·"}|${r.right?.text ?? "·"}`));

  it("puts a change's removed lines beside its added ones and folds long unchanged stretches", () => {
    const before = ["1", "2", "3", "4", "5", "6", "7", "8", "old", "9", "10"].join("\n");
    const after = ["1", "2", "3", "4", "5", "6", "7", "8", "new", "newer", "9", "10"].join("\n");
    expect(show(sideBySide(diffLines(before, after), 2))).toEqual([
      "…6",
      "7|7",
      "8|8",
      "old|new",
      "·|newer",
      "9|9",
      "10|10",
    ]);
  });

  it("shows the start of a text with no change, not only a fold (found by the property below)", () => {
    expect(show(sideBySide(diffLines("c\n", "c\n")))).toEqual(["c|c", "|"]);
    expect(show(sideBySide(diffLines("1\n2\n3\n4\n5", "1\n2\n3\n4\n5"), 2))).toEqual(["1|1", "2|2", "…3"]);
  });

  it("keeps every line of both texts, in order, for any two texts", () => {
    const text = fc.array(fc.constantFrom("a", "b", "c", ""), { maxLength: 25 }).map((l) => l.join("\n"));
    fc.assert(
      fc.property(text, text, (x, y) => {
        const rows = sideBySide(diffLines(x, y), Number.MAX_SAFE_INTEGER);
        const side = (s: "left" | "right") =>
          rows.flatMap((r) => (r.kind === "pair" && r[s] ? [r[s].text] : [])).join("\n");
        expect(side("left")).toBe(x);
        expect(side("right")).toBe(y);
      }),
    );
  });
});
