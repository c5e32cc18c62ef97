/**
 * The packages whose install scripts npm runs (package.json `allowScripts`,
 * read by npm from 11.16; docs/running.md, "npm start") are decided for
 * exactly the ones package-lock.json says have them: npm 11 warns about each
 * one left out, and a later npm skips its script (`node`'s preinstall is what
 * puts the project's own Node 22 in place). protobufjs is denied: its
 * postinstall only checks how a parent package names it, and none here does.
 * Entries are names, not `name@version`: npm matches a version only against
 * a registry package's `resolved` URL, which this lock does not keep, so a
 * pinned entry would never match. Real files, nothing stands in; npm itself
 * is not run.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const read = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), "utf8")) as Record<string, unknown>;

/** The lock's packages with an install script, by name (a package's name is the end of its node_modules path). */
function withInstallScripts(): string[] {
  const packages = read("package-lock.json").packages as Record<string, { hasInstallScript?: boolean }>;
  const names = Object.entries(packages)
    .filter(([where, p]) => where !== "" && p.hasInstallScript)
    .map(([where]) => where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length));
  return [...new Set(names)].sort();
}

describe("the install scripts npm may run", () => {
  const allowed = (read("package.json").allowScripts ?? {}) as Record<string, boolean>;

  it("are decided for every package of the lock that has one, and for no other", () => {
    expect(Object.keys(allowed).sort()).toEqual(withInstallScripts());
  });

  it("are named without a version, since the lock keeps no resolved URL to match a version against", () => {
    expect(Object.keys(allowed).filter((key) => key.lastIndexOf("@") > 0)).toEqual([]);
  });

  it("include node's, which installs the project's own Node", () => {
    expect(allowed.node).toBe(true);
  });
});
