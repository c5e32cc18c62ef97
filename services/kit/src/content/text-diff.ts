// A line diff (longest common subsequence) of two versions of a template's
// instructions: the web app shows it side by side, the templates service as a
// unified diff (DiffTemplateVersions). Templates are small (instructions up to 256 KiB, usually a
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
    out.push(
      ...midA.map((text) => ({ kind: "removed" as const, text })),
      ...midB.map((text) => ({ kind: "added" as const, text })),
    );
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
  // Row n and column m are the empty suffixes: 0, as the table starts.
  const cell = (i: number, j: number) => len[i * (m + 1) + j] ?? 0;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[i * (m + 1) + j] = a[i] === b[j] ? cell(i + 1, j + 1) + 1 : Math.max(cell(i + 1, j), cell(i, j + 1));
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  for (;;) {
    const x = a[i];
    const y = b[j];
    if (x === undefined || y === undefined) break;
    if (x === y) {
      out.push({ kind: "same", text: x });
      i++;
      j++;
    } else if (cell(i + 1, j) >= cell(i, j + 1)) {
      out.push({ kind: "removed", text: x });
      i++;
    } else {
      out.push({ kind: "added", text: y });
      j++;
    }
  }
  for (const text of a.slice(i)) out.push({ kind: "removed", text });
  for (const text of b.slice(j)) out.push({ kind: "added", text });
  return out;
}

/**
 * The diff in unified format (as `diff -u`): hunks with `context` unchanged
 * lines around each run of changes, under `--- from` and `+++ to` headers.
 * Empty when the texts are equal.
 */
export function unifiedDiff(before: string, after: string, labels: { from: string; to: string }, context = 3): string {
  if (before === after) return "";
  const lines = diffLines(before, after);
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  // Positions (1-based) in each text of every diff line.
  const posA: number[] = [];
  const posB: number[] = [];
  let a = 1;
  let b = 1;
  for (const l of lines) {
    posA.push(a);
    posB.push(b);
    if (l.kind !== "added") a++;
    if (l.kind !== "removed") b++;
  }
  let i = 0;
  while (i < lines.length) {
    while (i < lines.length && lines[i]?.kind === "same") i++;
    if (i === lines.length) break;
    const start = Math.max(0, i - context);
    // A hunk runs on while the next change is within twice the context.
    let end = i;
    for (;;) {
      while (end < lines.length && lines[end]?.kind !== "same") end++;
      let next = end;
      while (next < lines.length && lines[next]?.kind === "same") next++;
      if (next < lines.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(lines.length, end + context);
    const hunk = lines.slice(start, stop);
    const countA = hunk.filter((l) => l.kind !== "added").length;
    const countB = hunk.filter((l) => l.kind !== "removed").length;
    const range = (pos: number, n: number) => `${n === 0 ? pos - 1 : pos}${n === 1 ? "" : `,${n}`}`;
    const fromA = posA[start];
    const fromB = posB[start];
    if (fromA === undefined || fromB === undefined) throw new Error("unifiedDiff: a hunk starts past the last line");
    out.push(`@@ -${range(fromA, countA)} +${range(fromB, countB)} @@`);
    for (const l of hunk) out.push(`${l.kind === "same" ? " " : l.kind === "removed" ? "-" : "+"}${l.text}`);
    i = stop;
  }
  return `${out.join("\n")}\n`;
}
