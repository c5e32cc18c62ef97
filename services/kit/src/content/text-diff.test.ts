import { describe, expect, it } from "vitest";
import { unifiedDiff } from "./text-diff.js";

const labels = { from: "v1", to: "v2" };
const lines = (n: number, change: Record<number, string> = {}) =>
  Array.from({ length: n }, (_, i) => change[i + 1] ?? `line ${i + 1}`).join("\n");

describe("unifiedDiff", () => {
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb", "a\nb", labels)).toBe("");
  });

  it("gives each run of changes 3 lines of context, and far apart runs hunks of their own", () => {
    expect(unifiedDiff(lines(20), lines(20, { 2: "two", 18: "eighteen" }), labels)).toBe(
      [
        "--- v1",
        "+++ v2",
        "@@ -1,5 +1,5 @@",
        " line 1",
        "-line 2",
        "+two",
        " line 3",
        " line 4",
        " line 5",
        "@@ -15,6 +15,6 @@",
        " line 15",
        " line 16",
        " line 17",
        "-line 18",
        "+eighteen",
        " line 19",
        " line 20",
        "",
      ].join("\n"),
    );
  });

  it("joins runs of changes closer than twice the context into one hunk, and counts added and removed lines", () => {
    const out = unifiedDiff(lines(12), lines(12, { 4: "four" }).replace("line 9\n", "line 9\nnew a\nnew b\n"), labels);
    expect(out.split("\n").filter((l) => l.startsWith("@@"))).toEqual(["@@ -1,12 +1,14 @@"]);
    expect(out).toContain("-line 4\n+four\n");
    expect(out).toContain(" line 9\n+new a\n+new b\n line 10\n");
  });

  it("says where lines go into an empty text, and out of one", () => {
    expect(unifiedDiff("", "a\nb", labels)).toBe("--- v1\n+++ v2\n@@ -1 +1,2 @@\n-\n+a\n+b\n");
    expect(unifiedDiff("a", "a\nb", labels)).toBe("--- v1\n+++ v2\n@@ -1 +1,2 @@\n a\n+b\n");
  });
});
