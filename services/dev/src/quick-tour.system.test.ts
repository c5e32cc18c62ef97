// The README's walk-through as written (docs/walkthroughs/quick-tour.md):
// its first two sh blocks read from the page, run against the pool as
// `npm start` starts it (startPool with its defaults: embedded databases,
// the local stand-ins, LOCAL_BUDGET), and every documented output (`# -> …`)
// checked against what the system printed. The `pool` commands run in bash
// as the page writes them, `npm run -s pool --` being the real npm run in
// this repository from a directory of the test's own (the CLI's key and the
// template file land there, as INIT_CWD); the conversation is the real
// Convos CLI's `agent serve`, started with the page's own arguments
// (services/testing's ConvosCli). Nothing is a stand-in but the third
// parties the pool already stands in for (Telnyx, mail, the chain).
import { execFile, spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { ConvosCli, type MessageEvent, type ReadyEvent } from "@convos-pool/testing/convos-cli";
import { xmtpPortForTest, type XmtpPort } from "@convos-pool/testing/xmtp-port";
import { startPool, type RunningPool } from "./pool.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const PAGE = join(ROOT, "docs/walkthroughs/quick-tour.md");

/** A step of a block: its command (lines joined, a heredoc whole) and what the page says it prints. */
interface Step {
  command: string;
  expected?: string;
}

/** The page's ```sh blocks, each as its steps. */
function blocks(markdown: string): Step[][] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => steps(m[1]!));
}

function steps(block: string): Step[] {
  const out: Step[] = [];
  const lines = block.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const said = /^#\s+->\s?(.*)$/.exec(line);
    if (said) {
      const last = out.at(-1);
      if (last && last.expected === undefined) last.expected = said[1]!.trim();
      continue;
    }
    if (/^\s*(#|$)/.test(line)) continue;
    // A heredoc runs to its end marker: one step.
    const heredoc = /<<'?(\w+)'?/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[1]!, i + 1);
      out.push({ command: lines.slice(i, end + 1).join("\n") });
      i = end;
      continue;
    }
    const inline = / {2,}# -> (.*)$/.exec(line);
    out.push(inline ? { command: line.slice(0, inline.index), expected: inline[1]!.trim() } : { command: line });
  }
  return out;
}

/** A documented value as a pattern: `…` and `<placeholder>` stand for anything. */
function valuePattern(doc: string): RegExp {
  const parts = doc.split(/…|<[^>]+>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join("[\\s\\S]*")}$`);
}

/** Each `"key": value` the page documents, checked against an object the system printed. */
function expectPairs(expected: string, printed: Record<string, unknown>, what: string): void {
  const pairs = [...expected.matchAll(/"([\w-]+)":\s*("(?:[^"\\]|\\.)*"|-?\d+|true|false|null)/g)];
  expect(pairs.length, `${what}: the page documents no "key": value in ${expected}`).toBeGreaterThan(0);
  for (const [, key, raw] of pairs) {
    const doc = JSON.parse(raw!) as unknown;
    const got = printed[key!];
    if (typeof doc === "string") expect(String(got), `${what}: "${key}"`).toMatch(valuePattern(doc));
    else expect(got, `${what}: "${key}"`).toEqual(doc);
  }
}

let dir: string;
/** The Convos CLI's home in the page's commands (`/tmp/convos-host` there), the test's own here. */
let convosHome: string;
let xmtp: XmtpPort;
let pool: RunningPool;
const clis: ConvosCli[] = [];

/** What each `npm run -s pool -- …` of the page printed, in order (written by the npm below). */
interface PoolRun {
  args: string[];
  stdout: string;
  status: number;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-quick-tour-"));
  xmtp = await xmtpPortForTest({ timeoutMs: 180_000 });
  // As npm start starts it, on ports of the test's own.
  pool = await startPool({
    dataDir: join(dir, "pool"),
    port: 0,
    xmtpPort: xmtp.port,
    chainPort: 0,
    mailPort: 0,
    pop3Port: 0,
    smsPort: 0,
    warmInstances: 1,
    log: createLogger("pool", { level: "silent" }),
  });
  // `npm` for the page's commands: the real one, run in this repository (npm runs a script in its
  // package's folder, with INIT_CWD the caller's), each run's output kept for the checks.
  const realNpm = spawnSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).stdout.trim();
  await mkdir(join(dir, "bin"));
  await mkdir(join(dir, "work"));
  await writeFile(
    join(dir, "npm-shim.mjs"),
    `import { spawnSync } from "node:child_process";
import { appendFileSync } from "node:fs";
const args = process.argv.slice(2);
const r = spawnSync(${JSON.stringify(realNpm)}, ["--prefix", ${JSON.stringify(ROOT)}, ...args], { stdio: ["inherit", "pipe", "inherit"] });
process.stdout.write(r.stdout);
appendFileSync(${JSON.stringify(join(dir, "runs.jsonl"))}, JSON.stringify({ args, stdout: r.stdout.toString(), status: r.status ?? 1 }) + "\\n");
process.exit(r.status ?? 1);
`,
  );
  await writeFile(
    join(dir, "bin", "npm"),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(dir, "npm-shim.mjs"))} "$@"\n`,
  );
  await chmod(join(dir, "bin", "npm"), 0o755);
  // `npx convos` as in the repository, where the Convos CLI is installed.
  const realNpx = spawnSync("sh", ["-c", "command -v npx"], { encoding: "utf8" }).stdout.trim();
  await writeFile(
    join(dir, "bin", "npx"),
    `#!/bin/sh\ncd ${JSON.stringify(ROOT)} && exec ${JSON.stringify(realNpx)} "$@"\n`,
  );
  await chmod(join(dir, "bin", "npx"), 0o755);
  convosHome = join(dir, "convos-host", "home");
}, 300_000);

afterAll(async () => {
  for (const c of clis) await c.stop();
  await pool?.close();
  await xmtp?.release();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

/** Runs `script` in bash from the test's directory, as a person's terminal in the repository would. */
async function bash(script: string): Promise<string> {
  const work = join(dir, "work");
  const { stdout } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", script], {
    cwd: work,
    env: {
      ...process.env,
      PATH: `${join(dir, "bin")}:${process.env.PATH}`,
      // The pool of this test, not one on 8080: the CLI's documented POOL_URL.
      POOL_URL: pool.gatewayUrl,
    },
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

async function runs(): Promise<PoolRun[]> {
  const text = await readFile(join(dir, "runs.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PoolRun);
}

/** The run of `pool <name> …` (the last one), its output parsed. */
function printedBy(all: PoolRun[], name: string): Record<string, unknown> {
  const run = all.filter((r) => r.args.slice(0, 4).join(" ") === "run -s pool --" && r.args[4] === name).at(-1);
  expect(run, `pool ${name} ran`).toBeDefined();
  expect(run!.status, `pool ${name}: ${run!.stdout}`).toBe(0);
  return JSON.parse(run!.stdout) as Record<string, unknown>;
}

it("the quick tour's first two blocks, run as written against npm start, print what the page says", {
  timeout: 600_000,
}, async () => {
  const [creator, conversation] = blocks(await readFile(PAGE, "utf8"));
  expect(creator, "the page's first sh block").toBeDefined();
  expect(conversation, "the page's second sh block").toBeDefined();

  // Block 1, whole, in one shell: a key, the template, create, publish; then what $ID became.
  // The page's Convos home is the test's (a home of its own: `identity create` refuses an existing identity),
  // the one the Convos CLI of block 2 serves the conversation from, so the key made is the person's in it.
  const script = creator!.map((s) => s.command.replaceAll("/tmp/convos-host", convosHome)).join("\n");
  const id = (await bash(`${script}\necho; echo "$ID"`)).trim().split("\n").at(-1)!;
  expect(id).toMatch(/^tmpl_/);
  const all = await runs();
  const checked: string[] = [];
  for (const step of creator!) {
    const name = /^pool (\S+)/.exec(step.command)?.[1];
    if (!name || step.expected === undefined) continue;
    expectPairs(step.expected, printedBy(all, name), `pool ${name}`);
    checked.push(name);
  }
  expect(checked).toEqual(["create", "publish"]);

  // Block 2: the Convos CLI with the page's arguments (the driver gives it its own --env local and --home).
  const serve = conversation!.find((s) => s.command.startsWith("npx convos agent serve"))!;
  const words = [...serve.command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(2);
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === "--env" || words[i] === "--home") i++;
    else args.push(words[i]!);
  }
  const cli = await ConvosCli.start(args, join(dir, "convos-host"), { xmtpPort: xmtp.port });
  clis.push(cli);
  const ready: ReadyEvent = await cli.ready(120_000);
  // The page's `pool keygen --from-convos` made the person serving this conversation the claim's signer.
  expect(printedBy(all, "keygen").inbox_id, "pool keygen's inbox is the person's in the chat").toBe(ready.inboxId);
  expectPairs(serve.expected!, ready, "convos agent serve");

  // The claim as written, its invite the one the CLI printed.
  const claim = conversation!.find((s) => s.command.startsWith("pool claim"))!;
  const define = creator!.find((s) => s.command.startsWith("pool()"))!.command;
  await bash(`${define}\nID=${id}\n${claim.command.replace("<inviteUrl>", ready.inviteUrl)}`);
  const claimed = printedBy(await runs(), "claim");
  expectPairs(claim.expected!, claimed, "pool claim");
  // Exactly what the page shows: nothing printed beside it.
  expect(Object.keys(claimed)).toEqual([...claim.expected!.matchAll(/"([\w-]+)":/g)].map((m) => m[1]));

  // Back in the CLI, on its stdin: the page's line, and the agent's answer as the page prints it.
  const said = conversation!.find((s) => s.command.startsWith('{"type":"send"'))!;
  const from = cli.events.length;
  cli.command(JSON.parse(said.command) as { type: string });
  const answer = await cli.waitFor<MessageEvent>(
    `the agent saying ${said.expected}`,
    (e) => e.event === "message" && e.senderInboxId !== ready.inboxId && e.content === said.expected,
    { from, ms: 120_000 },
  );
  expect(answer.content).toBe(said.expected);
});
