// What a command prints for a person (docs/cli.md, "Output"): a table for a
// list, a few lines of `label: value` for one thing, names before ids,
// money in ETH rounded, times to the minute in UTC, the proto's enum names in
// words. `--json` skips all of this and prints the gateway's JSON as it came,
// for scripts. Pure: main.ts passes the terminal's width (none when stdout is
// not a terminal: nothing is cut, as gh and kubectl do). No colour, ever.
import { formatEther } from "viem";

export interface RenderOptions {
  /** The terminal's columns; absent: lines as long as they need. */
  width?: number | undefined;
}

/** Decimals of ETH a person is shown; less than the last one shows as "<0.000001". */
const ETH_DECIMALS = 6;

/** "0.0125 ETH": wei in ETH, rounded to six decimals; what is not a whole number of wei, as it came. */
export function eth(wei: string | number | undefined | null): string {
  if (wei === undefined || wei === null || wei === "") return "";
  const text = String(wei);
  if (!/^\d+$/.test(text)) return text;
  const value = BigInt(text);
  const step = 10n ** BigInt(18 - ETH_DECIMALS);
  const rounded = ((value + step / 2n) / step) * step;
  if (rounded === 0n && value > 0n) return `<0.${"0".repeat(ETH_DECIMALS - 1)}1 ETH`;
  return `${formatEther(rounded)} ETH`;
}

/** "2026-11-29 21:05 UTC": an ISO time to the minute; what does not read as one, as it came. */
export function when(at: string | null | undefined): string {
  if (!at) return "";
  const d = new Date(at);
  if (!/^\d{4}-\d\d-\d\dT/.test(at) || Number.isNaN(d.getTime())) return at;
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Words a proto enum name ends in: "INSTANCE_STATE_ACTIVE" is "active", "SYNC_STATE_CURRENT" is "current". */
const ENUM_KINDS = /^(?:[A-Z0-9]+_)*?(?:STATE|STATUS|VISIBILITY|KIND|MODE|OUTCOME|ACTION|DECISION|REASON|ROLE)_(.+)$/;

/** A proto enum's name in words; any other text as it is. */
export function enumWord(value: string): string {
  const m = ENUM_KINDS.exec(value);
  return m?.[1] ? m[1].toLowerCase().replaceAll("_", " ") : value;
}

/** A value of a field, as a person reads it: by its key's kind (`_wei`, `_at`) or its own. */
export function cell(key: string, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.map((v) => cell(key, v)).join(", ");
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "bigint") return JSON.stringify(value);
  const text = String(value);
  if (/_wei$/.test(key)) return eth(text);
  if (/(^|_)at$/.test(key) || /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(text)) return when(text);
  // One line per row: a newline in a note never breaks a table.
  return enumWord(text).replace(/\s+/g, " ");
}

/** A key as a heading or label: "agent_name" is "agent name", "amount_wei" "amount" (its cell says ETH), "created_at" "created". */
export const label = (key: string): string =>
  key === "_at" ? key : key.replace(/_(wei|at)$/, "").replaceAll("_", " ");

const ELLIPSIS = "…";

/**
 * Rows under their headings, each column as wide as its widest cell, two
 * spaces apart, the last column not padded. With a width, the widest columns
 * of words give way (cut with "…") until a line fits, none below its
 * heading's width.
 */
export function table(headings: readonly string[], rows: readonly (readonly string[])[], width?: number): string[] {
  const widths = headings.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  if (width !== undefined) {
    // A column of single words (ids, addresses, hashes) is copied whole, so it never gives way.
    const floor = headings.map((h, c) =>
      rows.some((r) => (r[c] ?? "").includes(" ")) ? Math.max(h.length, 4) : (widths[c] ?? 0),
    );
    const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
    while (total() > width) {
      let widest = -1;
      widths.forEach((w, c) => {
        if (w > (floor[c] ?? 0) && (widest < 0 || w > (widths[widest] ?? 0))) widest = c;
      });
      if (widest < 0) break;
      widths[widest] = (widths[widest] ?? 0) - 1;
    }
  }
  const fit = (text: string, w: number) => (text.length > w ? `${text.slice(0, Math.max(0, w - 1))}${ELLIPSIS}` : text);
  const line = (cells: readonly string[]) =>
    headings
      .map((_, c) => {
        const text = fit(cells[c] ?? "", widths[c] ?? 0);
        return c === headings.length - 1 ? text : text.padEnd(widths[c] ?? 0);
      })
      .join("  ")
      .trimEnd();
  return [line(headings.map((h) => h.toUpperCase())), ...rows.map(line)];
}

/** Keys a person looks for first: what a thing is called. */
const NAME_KEYS = ["agent_name", "name", "display_name", "title", "conversation_name"];

/** Keys read by people first (names), then as they came, ids last. */
export function peopleOrder(keys: readonly string[]): string[] {
  const rank = (k: string) => {
    const n = NAME_KEYS.indexOf(k);
    if (n >= 0) return n - NAME_KEYS.length;
    return isId(k) ? 1 : 0;
  };
  return keys
    .map((k, i) => ({ k, i }))
    .sort((a, b) => rank(a.k) - rank(b.k) || a.i - b.i)
    .map(({ k }) => k);
}

type Row = Record<string, unknown>;

const isRow = (v: unknown): v is Row => typeof v === "object" && v !== null && !Array.isArray(v);
const isScalar = (v: unknown) => v === null || ["string", "number", "boolean"].includes(typeof v);
const isEmpty = (v: unknown) => v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0);

/** Columns a list shows when its command names none, its rows' own id among them. */
const MAX_COLUMNS = 7;

const isId = (k: string) => k === "id" || k.endsWith("_id");

/**
 * The columns of rows whose command names none: the plain fields some row
 * fills, by peopleOrder, the first ones that fit, and last the rows' own id
 * (`id`, else the first id field: `pattern_id`), what the next command takes.
 */
export function columnsOf(rows: readonly Row[]): string[] {
  const keys = [
    ...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => isScalar(r[k]) && rows.some((x) => !isEmpty(x[k]))))),
  ];
  const own = keys.includes("id") ? "id" : keys.find(isId);
  const rest = peopleOrder(keys.filter((k) => k !== own)).slice(0, own ? MAX_COLUMNS - 1 : MAX_COLUMNS);
  return [...rest, ...(own ? [own] : [])];
}

/** Rows as a table of the given columns (none: columnsOf the rows). */
export function rowsTable(rows: readonly Row[], columns?: readonly string[], opts: RenderOptions = {}): string[] {
  const keys = columns ?? columnsOf(rows);
  // A column of the command's own that no row fills is left out too.
  const shown = columns ? keys.filter((k) => rows.some((r) => !isEmpty(at(r, k)))) : keys;
  return table(
    shown.map((k) => label(k.replaceAll(".", " "))),
    rows.map((r) => shown.map((k) => cell(k.split(".").at(-1) ?? k, at(r, k)))),
    opts.width,
  );
}

/** A field of a row by its path ("sync.state"). */
function at(row: Row, path: string): unknown {
  let v: unknown = row;
  for (const k of path.split(".")) v = isRow(v) ? v[k] : undefined;
  return v;
}

/**
 * The list a page answer holds (`{"templates": [...], "next_cursor": …}`),
 * by its key: its one list of objects, or its one such list with anything in
 * it; undefined when it holds none, or several.
 */
export function listOf(value: Row): { key: string; rows: Row[] } | undefined {
  const lists = Object.entries(value).filter((e): e is [string, Row[]] => Array.isArray(e[1]) && e[1].every(isRow));
  const full = lists.filter(([, rows]) => rows.length > 0);
  const [key, rows] = (lists.length === 1 ? lists[0] : full.length === 1 ? full[0] : undefined) ?? [];
  return key !== undefined && rows !== undefined ? { key, rows } : undefined;
}

/** A page: what it says beside its list, the list as a table ("No <key>." when empty), the next page's cursor. */
export function pageText(value: Row, columns?: readonly string[], opts: RenderOptions = {}): string | undefined {
  const list = listOf(value);
  if (!list) return undefined;
  const { [list.key]: _list, next_cursor: next, ...beside } = value;
  const head = fieldsText(beside, opts);
  const rows = list.rows.length === 0 ? [`No ${label(list.key)}.`] : rowsTable(list.rows, columns, opts);
  // Beside other fields the list says its name, as fieldsText would (a lineage's `children:`).
  const out = head.length === 0 ? rows : [...head, `${label(list.key)}:`, ...rows.map((l) => `  ${l}`)];
  if (typeof next === "string" && next !== "") out.push("", `More: --cursor ${next}`);
  return out.join("\n");
}

/** One thing as `label: value` lines, names first, empty fields left out; what it holds, indented below. */
export function fieldsText(value: Row, opts: RenderOptions = {}, indent = ""): string[] {
  const keys = peopleOrder(Object.keys(value)).filter((k) => !isEmpty(value[k]));
  // Text of several lines (instructions, a diff) goes below its label as it is, after the one-line fields.
  const isBlock = (v: unknown) => typeof v === "string" && v.trim().includes("\n");
  const scalars = keys.filter(
    (k) => !isBlock(value[k]) && (isScalar(value[k]) || (Array.isArray(value[k]) && value[k].every(isScalar))),
  );
  const w = Math.max(0, ...scalars.map((k) => label(k).length)) + 1;
  const out = scalars.map((k) => `${indent}${`${label(k)}:`.padEnd(w)}  ${cell(k, value[k])}`.trimEnd());
  for (const k of keys.filter((k) => !scalars.includes(k))) {
    const v = value[k];
    const inner = `${indent}  `;
    if (isBlock(v)) {
      out.push(
        `${indent}${label(k)}:`,
        ...String(v)
          .trimEnd()
          .split("\n")
          .map((l) => `${inner}${l}`.trimEnd()),
      );
    } else if (isRow(v)) {
      const lines = fieldsText(v, opts, inner);
      if (lines.length > 0) out.push(`${indent}${label(k)}:`, ...lines);
    } else if (Array.isArray(v) && v.every(isRow)) {
      const width = opts.width === undefined ? undefined : opts.width - inner.length;
      out.push(`${indent}${label(k)}:`, ...rowsTable(v, undefined, { width }).map((l) => `${inner}${l}`));
    } else {
      out.push(`${indent}${label(k)}:  ${JSON.stringify(v)}`);
    }
  }
  return out;
}

/** Any answer of the gateway for a person: a page as a table, a list as a table, one thing as its fields. */
export function readable(value: unknown, opts: RenderOptions = {}): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) {
    if (value.length === 0) return "None.";
    return value.every(isRow) ? rowsTable(value, undefined, opts).join("\n") : value.map((v) => cell("", v)).join("\n");
  }
  if (!isRow(value)) return cell("", value);
  return pageText(value, undefined, opts) ?? fieldsText(value, opts).join("\n");
}
