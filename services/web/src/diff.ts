// A line diff (longest common subsequence), for two versions of a template
// side by side. Templates are small (instructions up to 256 KiB, usually a
// few hundred lines): the quadratic table is fine up to MAX_CELLS, past
// which the lines in between are shown as one replaced block.
export type DiffLine = { kind: "same" | "removed" | "added"; text: string };

const MAX_CELLS = 4_000_000;

export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split("\n");
  const b = after.split("\n");
  // Common head and tail first: most edits touch a few lines.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const out: DiffLine[] = a.slice(0, head).map((text) => ({ kind: "same", text }));
  if ((midA.length + 1) * (midB.length + 1) > MAX_CELLS) {
    out.push(...midA.map((text) => ({ kind: "removed" as const, text })), ...midB.map((text) => ({ kind: "added" as const, text })));
  } else {
    out.push(...lcs(midA, midB));
  }
  out.push(...a.slice(a.length - tail).map((text) => ({ kind: "same" as const, text })));
  return out;
}

function lcs(a: string[], b: string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  // len[i][j]: the common subsequence of a[i..] and b[j..], in one flat array.
  const len = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[at(i, j)] = a[i] === b[j] ? len[at(i + 1, j + 1)]! + 1 : Math.max(len[at(i + 1, j)]!, len[at(i, j + 1)]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ kind: "same", text: a[i]! });
      i++;
      j++;
    } else if (len[at(i + 1, j)]! >= len[at(i, j + 1)]!) {
      out.push({ kind: "removed", text: a[i++]! });
    } else {
      out.push({ kind: "added", text: b[j++]! });
    }
  }
  while (i < n) out.push({ kind: "removed", text: a[i++]! });
  while (j < m) out.push({ kind: "added", text: b[j++]! });
  return out;
}

/** One row of a side-by-side view: a line of each text (absent where the other side has more), or unchanged lines left out. */
export type SideRow =
  | { kind: "pair"; left?: DiffLine; right?: DiffLine }
  | { kind: "skipped"; count: number };

/**
 * The diff as rows of two columns: unchanged lines on both sides, each run
 * of changes with its removed lines on the left beside its added lines on
 * the right, and unchanged stretches longer than twice `context` folded.
 */
export function sideBySide(lines: DiffLine[], context = 3): SideRow[] {
  const rows: SideRow[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.kind === "same") {
      let end = i;
      while (end < lines.length && lines[end]!.kind === "same") end++;
      const run = lines.slice(i, end);
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
      i = end;
    } else {
      const removed: DiffLine[] = [];
      const added: DiffLine[] = [];
      while (i < lines.length && lines[i]!.kind !== "same") (lines[i]!.kind === "removed" ? removed : added).push(lines[i++]!);
      for (let k = 0; k < Math.max(removed.length, added.length); k++) {
        const row: SideRow = { kind: "pair" };
        if (removed[k]) row.left = removed[k];
        if (added[k]) row.right = added[k];
        rows.push(row);
      }
    }
  }
  return rows;
}
