/**
 * Every repository path the docs name exists (docs/testing.md, "Paths in the
 * docs"). The docs read are README.md, deploy/README.md, the services'
 * READMEs and everything under docs/. A path is:
 * - a Markdown link to a local file, resolved against the doc's folder
 *   (as GitHub does; an `#anchor` is not checked);
 * - a name that starts with a top-level folder of the repository
 *   (`services/`, `docs/`, `deploy/`, ...), anywhere: prose, code, fenced blocks;
 * - in backticks, a name of two or more parts that ends with `/` or a file
 *   extension (`src/agent/profile.ts`, `k8s/pool.yaml`, `src/db/`).
 * A name is found when it exists under one of: the repository, the doc's
 * folder, `services/`, and the packages the doc is about (docs/claims.md,
 * services/testing/README.md, or a doc that names `services/<pkg>`): each
 * package and its `src/`.
 * Not paths, so never checked: URLs, names with a glob, a placeholder, a
 * colon or a pipe (`*.int.test.ts`, `.data/<service>`, `xmtp.org/text:1.0`),
 * names that start with `/` (REST routes, system paths) or `@` (packages),
 * and what .gitignore lists (`.data/`, `node_modules/`, `services/web/dist/`:
 * what a run, a build or an operator makes). The few other names that are not
 * in the repository are listed below, each with why.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const TOP = ["services", "docs", "deploy", "scripts", "bench", "proto", "gen", ".ci"];
const EXTENSIONS = /\.(ts|tsx|mts|js|mjs|cjs|json|yaml|yml|md|proto|sh|conf|css|html|png|pem|sql|txt|toml)$/;
// A top-level folder's name, not the end of a longer path or word (`$ROOT/scripts`, `kubectl-deploy/x`).
const TOP_NAME = new RegExp(
  String.raw`(?<![\w.\/@$-])(?:${TOP.map((t) => t.replace(".", "\\.")).join("|")})\/(?:[^\s\`'"()\[\],;{}]|\{[^{}\s]*\})*`,
  "g",
);
const NOT_A_PATH = /:\/\/|[*<>|:…$?~]/;
// .gitignore's plain entries (globs left out), anchored at the root: `.data/`, `deploy/.env`, ...
const IGNORED = readFileSync(path.join(ROOT, ".gitignore"), "utf8")
  .split("\n")
  .map((l) => l.trim().replace(/^\//, ""))
  .filter((l) => l && !l.startsWith("#") && !/[*?[!]/.test(l));
const ignored = (name: string) => IGNORED.some((entry) => name === entry.replace(/\/$/, "") || name.startsWith(entry));

/**
 * Names that look like paths and are not in the repository, each with why.
 * Keyed by doc, so that the same words elsewhere are still checked.
 */
const NOT_IN_THE_REPOSITORY: Record<string, Record<string, string>> = {
  "docs/running.md": {
    "claims/db/": "a folder of .data/ that `npm start` makes",
    "claims/mailboxes/": "a folder of .data/ that `npm start` makes",
    "claims/attestation-key.pem": "the development attestation key `npm start` makes in .data/",
  },
  "docs/openclaw.md": { "openclaw/workspace/": "a folder of an agent's workspace, made at Configure" },
  "docs/scaling.md": { "deploy/claims": "kubectl's name of the claims Deployment, not a folder" },
  "deploy/README.md": { "services/claims/src/hosts-cli.js": "the command as the image has it, compiled from the .ts" },
};

interface NamedPath {
  line: number;
  path: string;
  /** A link resolves against the doc's folder only; a name against every base. */
  kind: "link" | "name";
}

/** `a/{b,c}.ts` as `a/b.ts` and `a/c.ts`. */
function expandBraces(name: string): string[] {
  const m = /^(.*?)\{([^{}]*)\}(.*)$/.exec(name);
  if (!m) return [name];
  return m[2]!.split(",").flatMap((part) => expandBraces(`${m[1]}${part}${m[3]}`));
}

function names(text: string, inBackticks: boolean): string[] {
  const found = [...text.matchAll(TOP_NAME)].map((m) => m[0]);
  if (inBackticks) {
    for (const word of text.split(/\s+/)) {
      if (/^[\w.-]+(\/[\w.-]+)+\/?$/.test(word) && (word.endsWith("/") || EXTENSIONS.test(word))) found.push(word);
    }
  }
  return found
    .map((n) => n.replace(/[.:]+$/, ""))
    .flatMap(expandBraces)
    .filter((n) => !NOT_A_PATH.test(n) && !ignored(n));
}

/** The paths a Markdown text names, line by line. */
function namedPaths(markdown: string): NamedPath[] {
  const out: NamedPath[] = [];
  let fenced = false;
  markdown.split("\n").forEach((text, i) => {
    const line = i + 1;
    if (/^\s*(```|~~~)/.test(text)) {
      fenced = !fenced;
      return;
    }
    const add = (kind: NamedPath["kind"], p: string) => {
      if (!out.some((n) => n.line === line && n.path === p && n.kind === kind)) out.push({ line, path: p, kind });
    };
    if (fenced) {
      for (const n of names(text, false)) add("name", n);
      return;
    }
    let prose = text.replace(/`([^`]+)`/g, (_, code: string) => {
      for (const n of names(code, true)) add("name", n);
      return " ";
    });
    prose = prose.replace(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g, (_, target: string) => {
      const file = target.split("#")[0]!;
      if (file && !/^[a-z][a-z0-9+.-]*:/i.test(target)) add("link", decodeURIComponent(file));
      return "]";
    });
    for (const n of names(prose, false)) add("name", n);
  });
  return out;
}

/**
 * The folders a doc's names are looked up in, the repository's root first:
 * its folder, `services/`, and the packages it is about: the one it is named
 * after or is the README of, and each it names as `services/<pkg>`.
 */
function bases(doc: string, markdown: string): string[] {
  const own = /^services\/([^/]+)\/README\.md$/.exec(doc)?.[1] ?? /^docs\/([^/]+)\.md$/.exec(doc)?.[1];
  const named = [...markdown.matchAll(/services\/([\w-]+)/g)].map((m) => m[1]!);
  const packages = [...new Set([own, ...named])].filter((p) => p && existsSync(path.join(ROOT, "services", p)));
  return [".", path.dirname(doc), "services", ...packages.flatMap((p) => [`services/${p}`, `services/${p}/src`])];
}

function docs(): string[] {
  const inDocs = (readdirSync(path.join(ROOT, "docs"), { recursive: true }) as string[])
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
  const readmes = readdirSync(path.join(ROOT, "services"))
    .map((s) => `services/${s}/README.md`)
    .filter((f) => existsSync(path.join(ROOT, f)));
  return ["README.md", "deploy/README.md", ...readmes, ...inDocs.sort()];
}

/** What `doc` (its text `markdown`) names that does not exist, as `doc:line: path`. */
function missing(doc: string, markdown = readFileSync(path.join(ROOT, doc), "utf8")): string[] {
  const allowed = NOT_IN_THE_REPOSITORY[doc] ?? {};
  const exists = (folder: string, p: string) => existsSync(path.join(ROOT, folder, p));
  const from = bases(doc, markdown);
  return namedPaths(markdown)
    .filter(({ path: p, kind }) =>
      kind === "link" ? !exists(path.dirname(doc), p) : !(p in allowed) && !from.some((b) => exists(b, p)),
    )
    .map(({ line, path: p }) => `${doc}:${line}: ${p}`);
}

describe("paths in the docs", () => {
  it("finds links, top-level names and backticked paths, and nothing else", () => {
    const text = [
      "See [the claims](claims.md#tables), [a site](https://convos.org) and [here](#tables).",
      "Run `npm run test:unit -- services/kit` (docs/testing.md), then `src/agent/profile.ts`.",
      "Not paths: `*.int.test.ts`, `/api/pool/templates`, `.data/<service>`, `xmtp.org/text:1.0`,",
      "`@convos-pool/kit/db`, `node_modules/x/y.js`, `.data/cli/key.json`, `cur/`, `convos-pool/key`, $ROOT/scripts/x.",
      "```sh",
      "npx vitest run services/kit/src/{db,nonces}.int.test.ts   # `src/in-a-fence.ts` is not checked",
      "```",
      "`k8s/pool.yaml` and `src/db/`.",
    ].join("\n");
    expect(namedPaths(text)).toEqual([
      { line: 1, path: "claims.md", kind: "link" },
      { line: 2, path: "services/kit", kind: "name" },
      { line: 2, path: "src/agent/profile.ts", kind: "name" },
      { line: 2, path: "docs/testing.md", kind: "name" },
      { line: 6, path: "services/kit/src/db.int.test.ts", kind: "name" },
      { line: 6, path: "services/kit/src/nonces.int.test.ts", kind: "name" },
      { line: 8, path: "k8s/pool.yaml", kind: "name" },
      { line: 8, path: "src/db/", kind: "name" },
    ]);
  });

  it("looks a name up from the root, the doc's folder, services/ and the doc's own package", () => {
    const text = [
      "`services/claims/src/db/` `claims/src/db/` `src/db/` `db/entities.ts` `performance/claims.md` [ok](rest.md)",
      "`src/nowhere.ts` `claims/src/gone/` [gone](gone.md) services/claims/src/moved.ts `openclaw/workspace/`",
    ].join("\n");
    expect(missing("docs/claims.md", text)).toEqual([
      "docs/claims.md:2: src/nowhere.ts",
      "docs/claims.md:2: claims/src/gone/",
      "docs/claims.md:2: openclaw/workspace/",
      "docs/claims.md:2: gone.md",
      "docs/claims.md:2: services/claims/src/moved.ts",
    ]);
    // A package is a base only for a doc about it, or one that names it; an exception holds for its own doc only.
    expect(missing("docs/lineage.md", "`src/vault/`")).toEqual(["docs/lineage.md:1: src/vault/"]);
    expect(missing("docs/rest.md", "`src/db/`\n`services/claims/src/db/`")).toEqual([]);
    expect(missing("docs/openclaw.md", "`openclaw/workspace/`")).toEqual([]);
  });

  it("reads the READMEs and every doc", () => {
    const read = docs();
    expect(read).toContain("docs/claims.md");
    expect(read).toContain("docs/performance/claims.md");
    expect(read).toContain("services/testing/README.md");
    for (const doc of read) expect(statSync(path.join(ROOT, doc)).isFile()).toBe(true);
  });

  it.each(docs())("%s names only paths that exist", (doc) => {
    expect(missing(doc), "paths it names that do not exist (doc:line: path)").toEqual([]);
  });

  it("keeps no exception for a doc that no longer needs it", () => {
    const stale = Object.entries(NOT_IN_THE_REPOSITORY).flatMap(([doc, allowed]) => {
      const named = existsSync(path.join(ROOT, doc))
        ? namedPaths(readFileSync(path.join(ROOT, doc), "utf8")).map((n) => n.path)
        : [];
      return Object.keys(allowed)
        .filter((p) => !named.includes(p))
        .map((p) => `${doc}: ${p}`);
    });
    expect(stale).toEqual([]);
  });
});
