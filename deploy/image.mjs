// Steps of deploy/Dockerfile's build, run by Node in the build's stages:
//   workspaces            package.json's workspaces: the nine services that run (before npm prune)
//   bindings              removes the XMTP SDK's native bindings for other platforms than this one
//   js-exports            points every workspace's exports at its compiled JavaScript, in place: the
//                         build stage run as the test's local XMTP node (deploy/test/compose.test.yaml)
//   copy <build> <image>  copies what the services run from the build stage: their compiled
//                         JavaScript (never a test or a test harness), their package.json with its
//                         exports pointed at the JavaScript, gen/'s JavaScript and the built web app
import { cpSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const SERVICES = [
  "kit",
  "convos",
  "templates",
  "claims",
  "lineage",
  "keys",
  "gateway",
  "instance",
  "local-providers",
];
const [step, from, to] = process.argv.slice(2);
const readJson = (p) => JSON.parse(readFileSync(p, "utf8"));
const writeJson = (p, v) => writeFileSync(p, `${JSON.stringify(v, null, 2)}\n`);

if (step === "workspaces") {
  const pkg = readJson("package.json");
  pkg.workspaces = SERVICES.map((s) => `services/${s}`);
  writeJson("package.json", pkg);
} else if (step === "bindings") {
  const dir = "node_modules/@xmtp/node-bindings/dist";
  const own = `bindings_node.${process.platform}-${process.arch}-gnu.node`;
  for (const f of readdirSync(dir)) if (f.endsWith(".node") && f !== own) rmSync(join(dir, f));
} else if (step === "js-exports") {
  for (const dir of readdirSync("services")) {
    const path = join("services", dir, "package.json");
    const pkg = readJson(path);
    if (!pkg.exports) continue;
    pkg.exports = Object.fromEntries(Object.entries(pkg.exports).map(([k, v]) => [k, v.replace(/\.ts$/, ".js")]));
    writeJson(path, pkg);
  }
} else if (step === "copy") {
  const runs = (name) => /\.(js|mjs)$/.test(name) && !/\.test\.js$/.test(name);
  const onlyJs = (src) => (statSync(src).isDirectory() ? !src.endsWith("/testing") : runs(src));
  for (const service of SERVICES) {
    cpSync(join(from, "services", service, "src"), join(to, "services", service, "src"), {
      recursive: true,
      filter: onlyJs,
    });
    const pkg = readJson(join(from, "services", service, "package.json"));
    pkg.exports = Object.fromEntries(Object.entries(pkg.exports).map(([k, v]) => [k, v.replace(/\.ts$/, ".js")]));
    delete pkg.devDependencies;
    writeJson(join(to, "services", service, "package.json"), pkg);
  }
  cpSync(join(from, "gen"), join(to, "gen"), { recursive: true, filter: onlyJs });
  cpSync(join(from, "services", "web", "dist"), join(to, "services", "web", "dist"), { recursive: true });
} else {
  throw new Error(`deploy/image.mjs: unknown step ${step}`);
}
