/**
 * The floors table, `FLOORS` in eslint.config.js (docs/architecture.md, "How
 * the code is laid out"), agrees with the tree and with the docs that draw it:
 * - every folder directly under a row's root is in its row, and every folder
 *   a row names exists: a folder left out of its row is a floor the lint
 *   never checks, so an import that runs up into it passes silently;
 * - each row is drawn under "Where the code lives" in the doc `DRAWN_IN`
 *   names for it, the same floors in the same order, and every row has a doc,
 *   which docs/architecture.md's "Floors" paragraph links.
 * A drawing is a table whose first header cell begins with "floor" (a row's
 * floor is the first backticked name in its first cell that ends with `/`:
 * `src/claim/`, `rollout/`; a row naming no folder is the entry files), or a
 * fenced block whose floors start at the left edge (`  host/    the process`,
 * their descriptions indented further). Other tables there (`| file | job |`)
 * are not drawings.
 * Real: the config module itself (imported, as eslint loads it), the folders
 * on disk, the docs. Nothing stands in.
 * Not caught: what a drawing says of each floor, a floor moved in both the
 * table and its drawing, and the imports themselves (eslint checks those:
 * `import-x/no-restricted-paths`, built from the same table).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
// The module eslint loads; a path in a variable, since the type checker reads no JavaScript here.
const CONFIG = pathToFileURL(path.join(ROOT, "eslint.config.js")).href;
const { FLOORS } = (await import(CONFIG)) as { FLOORS: Record<string, string[]> };

/** The doc that draws each row, its rows in the order the doc draws them. */
const DRAWN_IN: Record<string, string[]> = {
  "docs/instance.md": ["services/instance/src", "services/instance/src/agent", "services/instance/src/tools"],
  "docs/claims.md": ["services/claims/src"],
  "docs/templates.md": ["services/templates/src"],
  "docs/lineage.md": ["services/lineage/src"],
  "docs/server-kit.md": ["services/kit/src"],
  "docs/rest.md": ["services/gateway/src", "services/gateway/src/rest"],
  "docs/web.md": ["services/web/src"],
  "docs/cli.md": ["services/cli/src", "services/cli/src/commands"],
};

const TEST_FILE = /\.(test|openclaw-test)\.tsx?$/;

/** Whether `dir` holds any file besides tests (a folder of tests alone is no floor). */
function holdsProduct(dir: string): boolean {
  return (readdirSync(dir, { recursive: true }) as string[]).some(
    (f) => !TEST_FILE.test(f) && statSync(path.join(dir, f)).isFile(),
  );
}

/** The folders directly under `root` that are floors, sorted. */
function foldersUnder(root: string): string[] {
  const dir = path.join(ROOT, root);
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== "node_modules" && holdsProduct(path.join(dir, e.name)))
    .map((e) => e.name)
    .sort();
}

/** The lines of a doc's "Where the code lives" section. */
function whereTheCodeLives(markdown: string): string[] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => /^##\s+Where the code lives\s*$/.test(l));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && /^#{1,2}\s/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** A table row's first cell's floor: its first backticked name that ends with `/`, last part (`src/claim/` is claim). */
function tableFloor(row: string): string | undefined {
  const first = row.split("|")[1] ?? "";
  const folder = [...first.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.trim()).find((n) => /^[\w./-]+\/$/.test(n));
  return folder?.replace(/\/$/, "").split("/").pop();
}

/** The floors of each drawing in a doc's "Where the code lives", top to bottom, drawing by drawing. */
function drawings(markdown: string): string[][] {
  const lines = whereTheCodeLives(markdown);
  const out: string[][] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*(```|~~~)/.test(line)) {
      const floors: string[] = [];
      for (i++; i < lines.length && !/^\s*(```|~~~)/.test(lines[i]!); i++) {
        const floor = /^ {0,3}([\w.-]+)\/(\s|$)/.exec(lines[i]!)?.[1];
        if (floor) floors.push(floor);
      }
      if (floors.length > 0) out.push(floors);
    } else if (line.startsWith("|")) {
      const table: string[] = [];
      for (; i < lines.length && lines[i]!.startsWith("|"); i++) table.push(lines[i]!);
      i--;
      const header = table[0]!.split("|")[1]!.trim();
      if (!/^floor\b/i.test(header)) continue;
      out.push(table.slice(2).flatMap((row) => tableFloor(row) ?? []));
    }
  }
  return out;
}

describe("the floors table, the tree and the docs", () => {
  it("reads a doc's floors from its tables headed 'floor' and its fenced drawings, and nothing else", () => {
    const doc = [
      "## Where the code lives",
      "",
      "| floor, top to bottom | its job |",
      "| --- | --- |",
      "| `main.ts`, `index.ts` | the entries |",
      "| `src/claim/` | the claim (`claim/flow.ts`) |",
      "| `db/` (`@convos-pool/x/db`) | the tables |",
      "",
      "| file | job |",
      "| --- | --- |",
      "| `src/claim/sql.ts`, `src/pool/` | not a drawing |",
      "",
      "```",
      "  main.ts      the face",
      "        |",
      "  host/        the process, the",
      "        |      tools/ in its words",
      "  platform/    XMTP",
      "               keys/ from the wallet",
      "```",
      "",
      "```ts",
      'import x from "./y.js";',
      "```",
      "",
      "## Tables",
      "",
      "| floor | its job |",
      "| --- | --- |",
      "| `after/` | another section |",
    ].join("\n");
    expect(drawings(doc)).toEqual([
      ["claim", "db"],
      ["host", "platform"],
    ]);
  });

  it("draws every row in exactly one doc", () => {
    const drawn = Object.values(DRAWN_IN).flat().sort();
    expect(drawn, "rows drawn (DRAWN_IN) against rows in FLOORS").toEqual(Object.keys(FLOORS).sort());
  });

  it.each(Object.keys(FLOORS))("%s: its row names each folder under it, and only those", (root) => {
    expect([...FLOORS[root]!].sort(), `the folders of ${root} against its FLOORS row`).toEqual(foldersUnder(root));
  });

  it("links every doc that draws a row from docs/architecture.md's floors", () => {
    const architecture = readFileSync(path.join(ROOT, "docs/architecture.md"), "utf8");
    const floors = /^\*\*Floors\.\*\*[\s\S]*?(?=\n\n)/m.exec(architecture)?.[0] ?? "";
    const linked = [...floors.matchAll(/\]\(([\w./-]+\.md)\)/g)].map((m) => `docs/${m[1]}`);
    expect(Object.keys(DRAWN_IN).filter((doc) => !linked.includes(doc))).toEqual([]);
  });

  it.each(Object.keys(DRAWN_IN))("%s draws its rows' floors in their order", (doc) => {
    const found = drawings(readFileSync(path.join(ROOT, doc), "utf8"));
    expect(found, `${doc}, "Where the code lives", against FLOORS`).toEqual(DRAWN_IN[doc]!.map((r) => FLOORS[r]));
  });
});
