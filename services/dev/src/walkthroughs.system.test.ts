// Every walk-through page (docs/walkthroughs/), in the order of its README,
// run as written against one fresh `npm start`: each ```sh block of a page
// goes to bash verbatim (walkthroughs-pages.ts reads it), in the shell state
// the blocks before it left, from one directory of the test's own, and each
// output the page shows (`# -> …`) is held to what the command printed; a
// command that fails where the page shows no failure fails its page. A
// command the page keeps running in a terminal of its own (`# keep running`:
// a served conversation, `npm start` itself) runs in the background, as a
// second terminal would; `npm start` with other settings replaces the one
// before, as Ctrl-C and a new `npm start` do. Every wait is the page's own
// (`timeout …`), so a page that waits forever fails here too.
//
// What is real: `npm start` itself (the real `npm run`, its embedded
// databases, local XMTP node, chain, mail and SMS stand-ins, the offline
// model), the `pool` CLI, the Convos CLI (`npx convos`), the `person` tool,
// curl. All of it runs in a network and mount namespace of the test's own
// (unshare): the pages' fixed ports (8080, 5556, 8545, …) and /tmp paths are
// the test's alone, so a person's `npm start` or another test on this machine
// is not disturbed. `npm` and `npx` are the real ones run in this repository
// (shims in the test's bin/), and the directory the pages run from links
// `services/` and `proto/`, the repository paths some pages name.
//
// Not walked, and said so where it stands: a block whose first line is
// `# not walked: REASON` is printed as such when its page runs. Today:
// memory.md's lesson reaching another creator's Kyoto Guide (a pool with the
// quorum lowered and a second creator's agent), wallet-budget.md's deposit
// (the address is the one the agent says in its conversation), group-member.md's
// badge and birth certificate checks (values read from a log by hand), and
// phones.md's phone answers (they follow the table's turns). The tables of
// what a conversation showed (group-member.md, tools-and-trust.md, phones.md)
// are prose, not sh blocks: what is typed there is not run. rollouts.md and
// feedback.md wait in real time for the pool's minute passes, as the page does.
//
//   POOL_TEST_SYSTEM=1 bash scripts/with-postgres.sh vitest run --project system services/dev/src/walkthroughs.system.test.ts
// Progress, block by block: the file printed at the start (walk.log).
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pageOrder, problems, readRun, scriptOf, shBlocks } from "./walkthroughs-pages.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const PAGES = join(ROOT, "docs/walkthroughs");
const RUNNER = join(import.meta.dirname, "walkthroughs-runner.sh");
/** The longest one block may take: rollouts.md's waits for the pool's watch are minutes each. */
const BLOCK_MS = 25 * 60_000;

let dir: string;
let holder: ReturnType<typeof spawn> | undefined;
/** How to enter the test's namespaces: as root, or as the root of a user namespace of its own. */
let enter: string[];

/**
 * The namespace's own /tmp, mounted over the machine's; a repository cloned
 * under /tmp would vanish with it, so it is bound aside first (`dir`/root)
 * and back at its own path inside.
 */
function keptRoot(dir: string): string {
  const q = JSON.stringify;
  const tmp = `mount --bind ${q(join(dir, "tmp"))} /tmp && `;
  if (!ROOT.startsWith("/tmp/")) return tmp;
  const aside = join(dir, "root");
  return `mount --bind ${q(ROOT)} ${q(aside)} && ${tmp}mkdir -p ${q(ROOT)} && mount --bind ${q(aside)} ${q(ROOT)} && `;
}

const log = (line: string) => appendFileSync(join(dir, "walk.log"), `${line}\n`);

/** Where the walk runs: its namespaces (network and /tmp of its own), npm and npx shims, its directory. */
beforeAll(async () => {
  // Not under /tmp: inside the namespace /tmp is the test's own.
  dir = await mkdtemp(join(existsSync("/var/tmp") ? "/var/tmp" : ROOT, "pool-walk-"));
  for (const d of ["bin", "walk", "tmp", "bg", "root"]) await mkdir(join(dir, d));
  console.log(`walk-throughs: progress in ${join(dir, "walk.log")}`);
  const userns = spawnSync("unshare", ["--net", "true"]).status === 0 ? [] : ["--user", "--map-root-user"];
  holder = spawn(
    "unshare",
    [
      ...userns,
      "--net",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `${keptRoot(dir)}ip link set lo up && echo up && exec sleep 100000`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("the namespaces were not up after 20 s")), 20_000);
    holder!.stdout!.once("data", () => {
      clearTimeout(timer);
      ok();
    });
    holder!.once("exit", (code) => fail(new Error(`unshare exited with ${code}: network namespaces are needed`)));
  });
  enter = ["-t", String(holder.pid), ...(userns.length ? ["-U", "--preserve-credentials"] : []), "-n", "-m"];
  const which = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim();
  // npm runs the repository's scripts (INIT_CWD stays the walk's directory); npx finds the repository's CLIs.
  await writeFile(join(dir, "bin", "npm"), `#!/bin/sh\nexec ${which("npm")} --prefix ${ROOT} "$@"\n`);
  await writeFile(join(dir, "bin", "npx"), `#!/bin/sh\ncd ${ROOT} && exec ${which("npx")} "$@"\n`);
  for (const f of ["npm", "npx"]) await chmod(join(dir, "bin", f), 0o755);
  for (const p of ["services", "proto"]) await symlink(join(ROOT, p), join(dir, "walk", p));
  // The README's first step: `npm start`, in a terminal of its own.
  const started = await runBlock("npm start   # keep running", "npm start");
  expect(started.problems, "npm start").toEqual([]);
}, 400_000);

afterAll(async () => {
  // Every process group the walk left running, then the namespaces.
  const pids = existsSync(join(dir, "bg", "pids")) ? readFileSync(join(dir, "bg", "pids"), "utf8") : "";
  for (const signal of ["SIGINT", "SIGKILL"] as const) {
    for (const pid of pids.split("\n").filter(Boolean)) {
      try {
        process.kill(-Number(pid), signal);
      } catch {
        // gone already
      }
    }
    if (signal === "SIGINT") await new Promise((r) => setTimeout(r, 10_000));
  }
  // And whatever a page left running by itself (`( … &)`): every process in the walk's network namespace.
  if (holder?.pid) {
    const ns = (pid: string) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/net`);
      } catch {
        return undefined;
      }
    };
    const walk = ns(String(holder.pid));
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p) && p !== String(holder!.pid)))
      if (walk && ns(pid) === walk) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // gone already
        }
      }
  }
  holder?.kill("SIGKILL");
  if (dir && !process.env.WALK_KEEP) await rm(dir, { recursive: true, force: true });
}, 60_000);

/** Runs one block through the runner in the walk's namespaces; what went wrong, and its output. */
async function runBlock(text: string, what: string): Promise<{ problems: string[]; output: string }> {
  const file = join(dir, "bg", "block.sh");
  await writeFile(file, `${scriptOf(text)}\n:\n`);
  log(`\n=== ${what} (up to ${BLOCK_MS / 60_000} minutes)`);
  const child = spawn("nsenter", [...enter, "bash", RUNNER, file, join(dir, "state.sh"), join(dir, "bg")], {
    env: {
      PATH: `${join(dir, "bin")}:${process.env.PATH}`,
      HOME: process.env.HOME ?? dir,
      LANG: "C.UTF-8",
      WALK_DIR: join(dir, "walk"),
      // npm start's data and the pages' `.data/` are one: the walk's directory, as in the repository.
      POOL_DATA_DIR: join(dir, "walk", ".data"),
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const take = (b: Buffer) => {
    output += b.toString();
    appendFileSync(join(dir, "walk.log"), b);
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  const timedOut = await new Promise<boolean>((done) => {
    const timer = setTimeout(() => {
      process.kill(-child.pid!, "SIGKILL");
      done(true);
    }, BLOCK_MS);
    // On its exit, not the close of its output: a process a page left running may hold that open.
    child.once("exit", () => {
      clearTimeout(timer);
      const drained = Date.now() + 2_000;
      const drain = setInterval(() => {
        if (!output.includes("@@end") && Date.now() < drained) return;
        clearInterval(drain);
        child.stdout.destroy();
        child.stderr.destroy();
        done(false);
      }, 100);
    });
  });
  const found = problems(shBlocks(`\`\`\`sh\n${text}\n\`\`\`\n`)[0]!, readRun(output));
  if (timedOut)
    found.push(`did not end within ${BLOCK_MS / 60_000} minutes; the end of its output:\n${output.slice(-3000)}`);
  else if (!output.includes("@@end"))
    found.push(`ended before its last line; the end of its output:\n${output.slice(-3000)}`);
  for (const p of found) log(`PROBLEM: ${p}`);
  return { problems: found, output };
}

const order = pageOrder(readFileSync(join(PAGES, "README.md"), "utf8"));

it("the walk-throughs' README lists every page of docs/walkthroughs/", async () => {
  const pages = readdirSync(PAGES).filter((f) => f.endsWith(".md") && f !== "README.md");
  expect([...order].sort()).toEqual(pages.sort());
});

for (const page of order) {
  it(`${page}, run as written after the pages before it, prints what it shows`, { timeout: 90 * 60_000 }, async () => {
    const blocks = shBlocks(await readFile(join(PAGES, page), "utf8"));
    expect(blocks.length, `${page} has sh blocks`).toBeGreaterThan(0);
    const found: string[] = [];
    for (const [n, block] of blocks.entries()) {
      const what = `${page}, block ${n + 1} of ${blocks.length}`;
      if (block.notWalked) {
        console.log(`${what}: not walked: ${block.notWalked}`);
        log(`\n=== ${what}: not walked: ${block.notWalked}`);
        continue;
      }
      const run = await runBlock(block.text, what);
      found.push(...run.problems.map((p) => `${what}: ${p}`));
    }
    expect(found).toEqual([]);
  });
}
