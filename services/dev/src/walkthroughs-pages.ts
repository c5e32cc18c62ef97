// How a walk-through page reads as a script (docs/walkthroughs/README.md,
// "How the pages are tested"): its ```sh blocks, the outputs it shows, the
// commands it keeps running in a terminal of their own, and what it leaves
// out of the test. Pure: walkthroughs.system.test.ts runs what this plans.

/** A command of a block: its lines (1-based, within the block) and what the page says it prints. */
export interface Expectation {
  start: number;
  end: number;
  text: string;
}

export interface Block {
  /** The block's text, without its fences. */
  text: string;
  /** Why the page leaves it out of the test (`# not walked: …` as its first line), or undefined. */
  notWalked?: string;
  expectations: Expectation[];
}

/** The marker of a command left running in a terminal of its own. */
export const KEEP_RUNNING = /\s+#\s*keep running\b.*$/;
/** The marker of a block the test does not run, with the reason. */
const NOT_WALKED = /^#\s*not walked:\s*(.+)$/;
/** `# -> TEXT` after a command, or on a comment line below it; the text ends at three spaces (a remark may follow). */
const INLINE = /\s{2,}#\s+->\s?(.*)$/;
const BELOW = /^\s*#\s+->\s?(.*)$/;

/** The pages of docs/walkthroughs/README.md's table, in its order. */
export function pageOrder(readme: string): string[] {
  return [...readme.matchAll(/^\|\s*\[[^\]]+\]\(([\w-]+\.md)\)/gm)].map((m) => m[1] ?? "");
}

const checked = (raw: string): string => (raw.split(/ {3,}/)[0] ?? "").trim();

/** The page's ```sh blocks, each with the outputs it documents. */
export function shBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => {
    const text = m[1] ?? "";
    const lines = text.split("\n");
    const notWalked = NOT_WALKED.exec(lines[0] ?? "")?.[1];
    const expectations: Expectation[] = [];
    let last: { start: number; end: number } | undefined;
    // Whether the line before left a command open: a `\` at its end, or a quote not closed.
    let open = false;
    let quote: string | undefined;
    lines.forEach((line, i) => {
      const n = i + 1;
      const continued = open;
      quote = quoteAfter(line, quote);
      open = quote !== undefined || /\\$/.test(line);
      const below = continued ? null : BELOW.exec(line);
      if (below) {
        if (last && checked(below[1] ?? "")) expectations.push({ ...last, text: checked(below[1] ?? "") });
        return;
      }
      if (!continued && /^\s*(#|$)/.test(line)) return;
      // A continued command starts where its first line did (bash numbers it by one of its lines).
      const start = continued && last ? last.start : n;
      last = { start, end: n };
      const inline = INLINE.exec(line);
      if (inline && checked(inline[1] ?? "")) expectations.push({ start, end: n, text: checked(inline[1] ?? "") });
    });
    return { text, ...(notWalked ? { notWalked } : {}), expectations };
  });
}

/** The quote a line leaves open (`'` or `"`), given the one open before it; a `#` outside quotes ends the line. */
function quoteAfter(line: string, open: string | undefined): string | undefined {
  let q = open;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (q === undefined && c === "#" && (i === 0 || /\s/.test(line.charAt(i - 1)))) break;
    if (c === "\\" && q !== "'") i++;
    else if (q === undefined && (c === "'" || c === '"')) q = c;
    else if (c === q) q = undefined;
  }
  return q;
}

const quoted = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * A block as the test runs it, line for line (so that bash's line numbers are
 * the block's): a `# keep running` command goes to the background as a second
 * terminal would (`npm start` in place of the one before), everything else as
 * written.
 */
export function scriptOf(block: string): string {
  return block
    .split("\n")
    .map((line) => {
      if (!KEEP_RUNNING.test(line) || /^\s*#/.test(line)) return line;
      const command = line.replace(KEEP_RUNNING, "");
      return /\bnpm start\b/.test(command) ? `__pool ${quoted(command)}` : `__bg ${quoted(command)}`;
    })
    .join("\n");
}

/** A documented output as a pattern: `…` and `<placeholder>` stand for anything, any run of spaces for any. */
export function outputPattern(doc: string): RegExp {
  const parts = doc.split(/…|<[^>]+>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\s+/g, "\\s+"));
  return new RegExp(parts.join("[\\s\\S]*?"));
}

/** The `"key": value` pairs a documented output names (each checked alone: the CLI prints JSON on many lines). */
export function pairsOf(doc: string): RegExp[] {
  return [...doc.matchAll(/"([\w-]+)":\s*("(?:[^"\\]|\\.)*"|-?\d+|true|false|null)/g)].map(
    ([, key, value]) => new RegExp(`"${key}"\\s*:\\s*${outputPattern(value ?? "").source}`),
  );
}

/** Whether `output` shows what the page documents: each pair it names, or its text. */
export function shows(output: string, doc: string): boolean {
  const pairs = pairsOf(doc);
  return pairs.length > 0 ? pairs.every((p) => p.test(output)) : outputPattern(doc).test(output);
}

/** What a run printed, as the test's markers cut it: each line's output, and the lines that failed. */
export interface Run {
  /** Output printed while line `n` (and what it started) ran, in order; a line run again (a loop) appends. */
  byLine: Map<number, string>;
  failed: { line: number; status: number }[];
}

/** Cuts a run's output at the `@@line N` markers (anywhere in a line: an output may not end its own); reads `@@failed STATUS N`. */
export function readRun(output: string): Run {
  const byLine = new Map<number, string>();
  const failed: Run["failed"] = [];
  let line = 0;
  let from = 0;
  const take = (text: string) => {
    if (text) byLine.set(line, `${byLine.get(line) ?? ""}${text}`);
  };
  for (const m of output.matchAll(/@@(line|failed) (\d+)(?: (\d+))?\n/g)) {
    take(output.slice(from, m.index));
    from = m.index + m[0].length;
    if (m[1] === "line") line = Number(m[2]);
    else failed.push({ status: Number(m[2]), line: Number(m[3]) });
  }
  take(output.slice(from));
  return { byLine, failed };
}

/** What a block's run got wrong: outputs it did not show, and commands that failed where the page shows none. */
export function problems(block: Block, run: Run): string[] {
  const lines = block.text.split("\n");
  const out: string[] = [];
  const outputOf = (e: Expectation) =>
    [...run.byLine]
      .filter(([n]) => n >= e.start && n <= e.end)
      .map(([, t]) => t)
      .join("");
  for (const e of block.expectations)
    if (!shows(outputOf(e), e.text))
      out.push(
        `line ${e.start} (${lines[e.start - 1]?.trim()}) did not print ${e.text}; it printed:\n${outputOf(e).slice(-2000)}`,
      );
  for (const f of run.failed) {
    const shown = block.expectations.some((e) => f.line >= e.start && f.line <= e.end && shows(outputOf(e), e.text));
    if (!shown)
      out.push(
        `line ${f.line} (${lines[f.line - 1]?.trim()}) exited ${f.status}, where the page shows no failure; it printed:\n${(run.byLine.get(f.line) ?? "").slice(-2000)}`,
      );
  }
  return out;
}
