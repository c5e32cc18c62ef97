// The workspace packages' graph, a static gate (scripts/lint.sh): what
// docs/testing.md, "Which package is which", promises of it.
//   - No cycle through dependencies and devDependencies alike: a test
//     harness that imports the packages whose tests import it is a cycle too.
//   - Every @convos-pool package a file imports is declared in its
//     package.json, so that the graph checked is the one the code has.
//   - Product code (a package's src/, its tests aside) imports only its
//     dependencies, outside packages included, and no test helper
//     (`@convos-pool/<p>/testing…`).
// Exits 1 naming each break.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const SERVICES = join(ROOT, "services");
/** Packages for tests only: all of their code is test code. */
const TEST_ONLY = new Set(["@convos-pool/testing", "@convos-pool/e2e"]);
const isTestFile = (path: string) => /\.(int\.)?test\.tsx?$|\.openclaw-test\.ts$/.test(path);

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const packages = readdirSync(SERVICES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => {
    const dir = join(SERVICES, d.name);
    const m = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
    return {
      dir,
      name: m.name,
      deps: new Set(Object.keys(m.dependencies ?? {})),
      dev: new Set(Object.keys(m.devDependencies ?? {})),
    };
  });
const names = new Set(packages.map((p) => p.name));
const problems: string[] = [];

// Cycles: a depth-first search that reports the path back to a package on the stack.
const edges = new Map(packages.map((p) => [p.name, [...p.deps, ...p.dev].filter((n) => names.has(n)).sort()]));
const done = new Set<string>();
const visit = (name: string, stack: string[]): void => {
  if (stack.includes(name)) {
    problems.push(`cycle: ${[...stack.slice(stack.indexOf(name)), name].join(" -> ")}`);
    return;
  }
  if (done.has(name)) return;
  for (const next of edges.get(name) ?? []) visit(next, [...stack, name]);
  done.add(name);
};
for (const p of packages) visit(p.name, []);

// Imports against declarations.
function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (["node_modules", "dist", "screenshots"].includes(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* sources(path);
    else if (/\.(ts|tsx|mts|mjs|js)$/.test(e.name)) yield path;
  }
}
for (const p of packages) {
  for (const file of sources(p.dir)) {
    const at = file.slice(ROOT.length + 1);
    const product = !TEST_ONLY.has(p.name) && at.startsWith(`${p.dir.slice(ROOT.length + 1)}/src/`) && !isTestFile(at);
    const text = readFileSync(file, "utf8");
    for (const [, spec = ""] of text.matchAll(/(?:from|import)\s*\(?\s*["'](@convos-pool\/[^"']+)["']/g)) {
      const [scope, base, ...entry] = spec.split("/");
      const dep = `${scope}/${base}`;
      if (dep === p.name || !names.has(dep)) continue;
      if (!p.deps.has(dep) && !p.dev.has(dep))
        problems.push(`${at}: imports ${spec}, which ${p.name} does not declare`);
      else if (product && !p.deps.has(dep))
        problems.push(`${at}: product code imports ${spec}, a devDependency of ${p.name}`);
      if (product && (TEST_ONLY.has(dep) || entry[0] === "testing"))
        problems.push(`${at}: product code imports ${spec}, a test helper`);
    }
    // An outside package product code imports is one of its own dependencies: the image keeps only those
    // (npm prune --omit=dev), so a package the root declares alone is missing where the service runs.
    if (!product) continue;
    for (const [, spec = ""] of text.matchAll(/^\s*(?:import|export)\b[^"';]*?from\s*["']([^"'./][^"']*)["']/gm)) {
      if (spec.startsWith("node:") || spec.startsWith("@convos-pool/")) continue;
      const dep = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] ?? spec);
      if (!p.deps.has(dep)) problems.push(`${at}: product code imports ${spec}, not among ${p.name}'s dependencies`);
    }
  }
}

if (problems.length > 0) {
  console.error(`The package graph (scripts/package-graph.ts, docs/testing.md):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.error(`${packages.length} packages, no cycle, every import declared`);
