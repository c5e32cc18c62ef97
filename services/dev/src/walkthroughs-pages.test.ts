// How walkthroughs.system.test.ts reads a page (walkthroughs-pages.ts), on
// small pages written here: no pool, no shell.
import { describe, expect, it } from "vitest";
import { pageOrder, problems, readRun, scriptOf, shBlocks, shows } from "./walkthroughs-pages.js";

const page = [
  "# A page",
  "",
  "```sh",
  'pool() { npm run -s pool -- "$@"; }',
  'pool create x.json          # -> "id": "tmpl_…", "version": 1',
  "pool update x.json --version 1",
  '#   -> {"error": {"type": "conflict", "code": "aborted",',
  '#              "message": "…"}}',
  "tail -f a.in | npx convos agent serve --name A | tee a.log   # keep running",
  "curl -s \\",
  "  http://127.0.0.1:8080/   # -> Convos",
  "```",
  "",
  "```sh",
  "# not walked: it needs a phone",
  "person phone-answer",
  "```",
].join("\n");

describe("a walk-through page read as a script", () => {
  it("lists the pages in the order of the README's table", () => {
    const readme =
      "| page | what |\n| --- | --- |\n| [quick-tour.md](quick-tour.md) | a |\n| [creator.md](creator.md) | b |\n";
    expect(pageOrder(readme)).toEqual(["quick-tour.md", "creator.md"]);
  });

  it("reads each output a command shows, inline or below it, a continued command from its first line", () => {
    const [block] = shBlocks(page);
    expect(block!.expectations).toEqual([
      { start: 2, end: 2, text: '"id": "tmpl_…", "version": 1' },
      { start: 3, end: 3, text: '{"error": {"type": "conflict", "code": "aborted",' },
      { start: 7, end: 8, text: "Convos" },
    ]);
  });

  it("reads a command whose quote runs over several lines as one, its output shown below it", () => {
    const [block] = shBlocks(
      [
        "```sh",
        'person phone-share "$C" calendar --data \'{"events":[',
        '  {"title":"Dentist"}]}\'',
        '#   -> {"id":"…"}',
        'curl -s -d \'{"a":1,',
        '  "b":2}\' http://127.0.0.1:8545   # -> "result"',
        "```",
      ].join("\n"),
    );
    expect(block!.expectations).toEqual([
      { start: 1, end: 2, text: '{"id":"…"}' },
      { start: 4, end: 5, text: '"result"' },
    ]);
  });

  it("keeps a block the page leaves out, with its reason", () => {
    expect(shBlocks(page)[1]!.notWalked).toBe("it needs a phone");
  });

  it("sends a kept-running command to the background, line for line", () => {
    const script = scriptOf(shBlocks(page)[0]!.text).split("\n");
    expect(script[5]).toBe("__bg 'tail -f a.in | npx convos agent serve --name A | tee a.log'");
    expect(scriptOf("POOL_OPERATORS=x npm start   # keep running")).toBe("__pool 'POOL_OPERATORS=x npm start'");
    expect(script).toHaveLength(shBlocks(page)[0]!.text.split("\n").length);
  });

  it("matches JSON on many lines by its pairs, and text with … for anything", () => {
    expect(shows('{\n  "id": "tmpl_9",\n  "version": 1\n}', '"id": "tmpl_…", "version": 1')).toBe(true);
    expect(shows('{"id": "tmpl_9", "version": 2}', '"id": "tmpl_…", "version": 1')).toBe(false);
    expect(shows("[offline model] Noted: your  name is Saul.", "[offline model] Noted: your name is Saul.")).toBe(true);
    expect(shows("[offline model] Noted.", "[offline model] Noted: your name is Saul.")).toBe(false);
  });

  it("cuts the output at markers, even one printed after an output without its newline", () => {
    const run = readRun('@@line 2\n{"id": "tmpl_1", "version": 1}@@line 3\nerror\n@@failed 1 3\n@@line 8\nConvos\n');
    expect(run.byLine.get(2)).toBe('{"id": "tmpl_1", "version": 1}');
    expect(run.failed).toEqual([{ status: 1, line: 3 }]);
  });

  it("fails a block whose output differs from the page, or whose command fails where the page shows no failure", () => {
    const [block] = shBlocks(page);
    const good = readRun(
      '@@line 2\n{"id": "tmpl_1", "version": 1}\n@@line 3\n{"error": {"type": "conflict", "code": "aborted"}}\n@@failed 1 3\n@@line 8\n<title>Convos</title>\n',
    );
    expect(problems(block!, good)).toEqual([]);
    const bad = readRun('@@line 2\n{"id": "tmpl_1", "version": 2}\n@@failed 1 2\n@@line 8\nConvos\n');
    expect(problems(block!, bad).map((p) => p.split(" (")[0])).toEqual(["line 2", "line 3", "line 2"]);
  });
});
