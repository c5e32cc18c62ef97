// The side-by-side view of a line diff (the diff itself is the kit's, shared with the templates service).
import { diffLines, type DiffLine } from "@convos-pool/kit/browser";

export { diffLines, type DiffLine };

/** One row of a side-by-side view: a line of each text (absent where the other side has more), or unchanged lines left out. */
export type SideRow = { kind: "pair"; left?: DiffLine; right?: DiffLine } | { kind: "skipped"; count: number };

/**
 * The diff as rows of two columns: unchanged lines on both sides, each run
 * of changes with its removed lines on the left beside its added lines on
 * the right, and unchanged stretches longer than twice `context` folded.
 */
export function sideBySide(lines: DiffLine[], context = 3): SideRow[] {
  const rows: SideRow[] = [];
  /** Where the run of unchanged (or of changed) lines that starts at `from` ends. */
  const runEnd = (from: number, same: boolean) => {
    let end = from;
    while (end < lines.length && (lines[end]?.kind === "same") === same) end++;
    return end;
  };
  let i = 0;
  while (i < lines.length) {
    const same = lines[i]?.kind === "same";
    const end = runEnd(i, same);
    const run = lines.slice(i, end);
    if (same) {
      // Context after the previous change and before the next; the file's edges need none
      // (but a text with no change at all shows its start, not only a fold).
      const keepHead = i === 0 && end < lines.length ? 0 : context;
      const keepTail = end === lines.length ? 0 : context;
      if (run.length > keepHead + keepTail + 1) {
        rows.push(...run.slice(0, keepHead).map((l) => ({ kind: "pair" as const, left: l, right: l })));
        rows.push({ kind: "skipped", count: run.length - keepHead - keepTail });
        rows.push(...run.slice(run.length - keepTail).map((l) => ({ kind: "pair" as const, left: l, right: l })));
      } else {
        rows.push(...run.map((l) => ({ kind: "pair" as const, left: l, right: l })));
      }
    } else {
      const removed = run.filter((l) => l.kind === "removed");
      const added = run.filter((l) => l.kind !== "removed");
      for (let k = 0; k < Math.max(removed.length, added.length); k++) {
        const row: SideRow = { kind: "pair" };
        const left = removed[k];
        const right = added[k];
        if (left) row.left = left;
        if (right) row.right = right;
        rows.push(row);
      }
    }
    i = end;
  }
  return rows;
}
