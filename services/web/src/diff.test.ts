import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { diffLines } from "./diff";

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
