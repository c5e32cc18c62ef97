// deploy/compose.yaml on podman, with plain `podman run` (deploy/README.md,
// "Podman"). Docker Compose runs compose.yaml as it is; Debian's
// podman-compose 1.0.3 does not: it passes `${NAME:-}` (an empty default)
// through literally, so every optional setting arrives as text such as
// "${POOL_LIMITS:-}"; it waits for no health check before starting a
// dependent service; and it prints each container's whole environment, every
// secret included. This reads the same file and runs the same containers:
//
//   npx tsx deploy/podman.ts up [--env-file FILE] [-f compose.yaml -f more.yaml] [-p PROJECT] [SERVICE...]
//   npx tsx deploy/podman.ts down [-v] | ps | kill SERVICE | start SERVICE | stop SERVICE
//
// Variables come from the environment, then the env file (default: .env
// beside the first compose file). Services start in depends_on order, each
// once those it depends on are healthy; `up` returns when every service is.
import { execFile as execFileCb } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";

const execFile = promisify(execFileCb);

export interface ComposeService {
  image?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  ports?: string[];
  ulimits?: Record<string, string | number>;
  restart?: string;
  stop_grace_period?: string;
  depends_on?: string[];
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number };
}

export interface Stack {
  project: string;
  /** Directory relative bind mounts are resolved against (the first compose file's). */
  dir: string;
  services: Record<string, ComposeService>;
  volumes: string[];
}

/** `${NAME}`, `${NAME:-default}` and `${NAME:?message}`, as compose substitutes them. */
export function substitute(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(
    /\$\{([A-Za-z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (_, name: string, op: string | undefined, arg: string | undefined) => {
      const v = vars[name];
      if (v !== undefined && v !== "") return v;
      if (op === "?") throw new Error(`${arg || `${name} is required`}`);
      return op === "-" ? (arg ?? "") : "";
    },
  );
}

const substituteAll = (v: unknown, vars: Record<string, string | undefined>): unknown =>
  typeof v === "string"
    ? substitute(v, vars)
    : Array.isArray(v)
      ? v.map((x) => substituteAll(x, vars))
      : v && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substituteAll(x, vars)]))
        : v;

/** An env file's NAME=value lines (# comments and blank lines skipped). */
export function readEnvFile(path: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const [, name = "", value = ""] = m;
    vars[name] = value.replace(/^(['"])(.*)\1$/, "$2");
  }
  return vars;
}

/** The first compose file's directory: relative bind mounts and the default env file are found there. */
function firstFileDir(files: string[]): string {
  const [first] = files;
  if (first === undefined) throw new Error("no compose file given");
  return dirname(resolve(first));
}

/** The compose files, later ones laid over earlier ones (maps merged, ports added), with variables substituted. */
export function loadStack(files: string[], vars: Record<string, string | undefined>, project: string): Stack {
  const services: Record<string, ComposeService> = {};
  const volumes = new Set<string>();
  for (const file of files) {
    const doc = parse(readFileSync(file, "utf8"), { merge: true }) as {
      services: Record<string, ComposeService>;
      volumes?: Record<string, unknown>;
    };
    for (const v of Object.keys(doc.volumes ?? {})) volumes.add(v);
    for (const [name, raw] of Object.entries(doc.services)) {
      const spec = substituteAll(raw, vars) as ComposeService;
      const base = services[name] ?? {};
      services[name] = {
        ...base,
        ...spec,
        environment: { ...base.environment, ...spec.environment },
        ports: [...(base.ports ?? []), ...(spec.ports ?? [])],
      };
    }
  }
  return { project, dir: firstFileDir(files), services, volumes: [...volumes] };
}

async function podman(args: string[], opts: { quiet?: boolean } = {}): Promise<string> {
  try {
    const { stdout } = await execFile("podman", args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  } catch (err) {
    if (opts.quiet) return "";
    const e = err as { stderr?: string; message: string };
    throw new Error(`podman ${args[0]} ${args[1] ?? ""}: ${(e.stderr ?? e.message).trim().split("\n").at(-1)}`);
  }
}

export const containerName = (stack: Stack, service: string) => `${stack.project}_${service}`;
const seconds = (d: string | undefined, dflt: number) =>
  d ? Number.parseFloat(d) * (d.endsWith("ms") ? 0.001 : 1) : dflt;

/** A service of the stack, by name; a name the compose files do not have is an error that says so. */
function serviceOf(stack: Stack, service: string): ComposeService {
  const s = stack.services[service];
  if (!s) throw new Error(`no service "${service}" in the compose files`);
  return s;
}

/** `podman run` arguments for a service; its environment goes in `envFile`, never on a command line. */
export function runArgs(stack: Stack, service: string, envFile: string): string[] {
  const s = serviceOf(stack, service);
  if (!s.image) throw new Error(`service "${service}" names no image (this runs images; it builds none)`);
  const args = ["run", "-d", "--name", containerName(stack, service), "--network", `${stack.project}_default`];
  args.push("--network-alias", service, "--env-file", envFile);
  args.push("--label", `io.podman.compose.project=${stack.project}`);
  if (s.restart) args.push("--restart", s.restart);
  if (s.stop_grace_period) args.push("--stop-timeout", String(Math.round(seconds(s.stop_grace_period, 10))));
  for (const [name, v] of Object.entries(s.ulimits ?? {})) args.push("--ulimit", `${name}=${v}:${v}`);
  for (const p of s.ports ?? []) args.push("-p", p);
  for (const v of s.volumes ?? []) {
    const [src = "", ...rest] = v.split(":");
    const local = src.startsWith(".") || isAbsolute(src);
    args.push("-v", [local ? resolve(stack.dir, src) : `${stack.project}_${src}`, ...rest].join(":"));
  }
  if (s.healthcheck) {
    const [kind, ...cmd] = s.healthcheck.test;
    args.push("--health-cmd", kind === "CMD" ? JSON.stringify(cmd) : cmd.join(" "));
    if (s.healthcheck.interval) args.push("--health-interval", s.healthcheck.interval);
    if (s.healthcheck.timeout) args.push("--health-timeout", s.healthcheck.timeout);
    if (s.healthcheck.retries) args.push("--health-retries", String(s.healthcheck.retries));
  }
  if (s.entrypoint) args.push("--entrypoint", JSON.stringify(s.entrypoint));
  args.push(s.image, ...(s.command ?? []));
  return args;
}

/** Starts a service's container (made anew). */
export async function runService(stack: Stack, service: string): Promise<void> {
  await podman(["rm", "-f", containerName(stack, service)], { quiet: true });
  const dir = mkdtempSync(join(tmpdir(), "pool-env-"));
  const envFile = join(dir, "env");
  try {
    const env = serviceOf(stack, service).environment ?? {};
    writeFileSync(
      envFile,
      Object.entries(env)
        .map(([k, v]) => `${k}=${String(v).replace(/\n/g, "\\n")}\n`)
        .join(""),
      {
        mode: 0o600,
      },
    );
    await podman(runArgs(stack, service, envFile));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether a service is healthy now: its health check run once (podman runs
 * none by itself without systemd); a service with no check, whether it runs.
 */
export async function healthy(stack: Stack, service: string): Promise<boolean> {
  const name = containerName(stack, service);
  const state = await podman(["inspect", "--format", "{{.State.Running}} {{.Config.Healthcheck}}", name], {
    quiet: true,
  });
  if (!state.startsWith("true")) return false;
  if (state.endsWith("<nil>")) return true;
  try {
    await execFile("podman", ["healthcheck", "run", name]);
    return true;
  } catch {
    return false;
  }
}

export async function waitHealthy(stack: Stack, service: string, ms = 180_000): Promise<number> {
  const t0 = Date.now();
  while (!(await healthy(stack, service))) {
    if (Date.now() - t0 > ms) {
      const logs = await podman(["logs", "--tail", "20", containerName(stack, service)], { quiet: true });
      throw new Error(`${service} is not healthy after ${ms / 1000} s; its last lines:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return Date.now() - t0;
}

/** Services in depends_on order. */
export function startOrder(stack: Stack, only?: string[]): string[] {
  const order: string[] = [];
  const visit = (s: string) => {
    if (order.includes(s)) return;
    for (const d of stack.services[s]?.depends_on ?? []) visit(d);
    order.push(s);
  };
  for (const s of only?.length ? only : Object.keys(stack.services)) visit(s);
  return order;
}

/**
 * Brings the stack up: network, volumes, then each service once those it
 * depends on are healthy. Resolves with each service's time from its start to healthy.
 */
export async function up(
  stack: Stack,
  only?: string[],
  log: (line: string) => void = () => {},
): Promise<Record<string, number>> {
  const net = `${stack.project}_default`;
  const exists = await execFile("podman", ["network", "exists", net]).then(
    () => true,
    () => false,
  );
  if (!exists) await podman(["network", "create", net]);
  // (podman 4.3's `volume create` has no --ignore)
  for (const v of stack.volumes)
    if (
      !(await podman(["volume", "exists", `${stack.project}_${v}`]).then(
        () => true,
        () => false,
      ))
    )
      await podman(["volume", "create", `${stack.project}_${v}`]);
  const started = new Map<string, Promise<number>>();
  const start = (s: string): Promise<number> => {
    let p = started.get(s);
    if (!p) {
      p = (async () => {
        await Promise.all((serviceOf(stack, s).depends_on ?? []).map(start));
        const running = await podman(["inspect", "--format", "{{.State.Running}}", containerName(stack, s)], {
          quiet: true,
        });
        if (running !== "true") await runService(stack, s);
        const ms = await waitHealthy(stack, s);
        log(`${s} healthy ${(ms / 1000).toFixed(1)} s after its start`);
        return ms;
      })();
      started.set(s, p);
    }
    return p;
  };
  return Object.fromEntries(await Promise.all(startOrder(stack, only).map(async (s) => [s, await start(s)] as const)));
}

export async function down(stack: Stack, volumes = false): Promise<void> {
  const ids = await podman(["ps", "-aq", "--filter", `label=io.podman.compose.project=${stack.project}`], {
    quiet: true,
  });
  if (ids) await podman(["rm", "-f", "-t", "5", ...ids.split("\n")], { quiet: true });
  if (volumes)
    for (const v of stack.volumes) await podman(["volume", "rm", "-f", `${stack.project}_${v}`], { quiet: true });
  await podman(["network", "rm", "-f", `${stack.project}_default`], { quiet: true });
}

/** SIGKILL: no shutdown of its own. Its restart policy does not bring it back: `start` does. */
export async function kill(stack: Stack, service: string): Promise<void> {
  await podman(["stop", "-t", "0", containerName(stack, service)]);
}

async function main(argv: string[]): Promise<void> {
  const files: string[] = [];
  let envFile: string | undefined;
  let project = "pool";
  let withVolumes = false;
  const rest: string[] = [];
  const args = [...argv];
  const flagValue = (flag: string): string => {
    const v = args.shift();
    if (v === undefined) throw new Error(`${flag} takes a value`);
    return v;
  };
  for (let a = args.shift(); a !== undefined; a = args.shift()) {
    if (a === "-f") files.push(flagValue(a));
    else if (a === "--env-file") envFile = flagValue(a);
    else if (a === "-p") project = flagValue(a);
    else if (a === "-v") withVolumes = true;
    else rest.push(a);
  }
  if (files.length === 0) files.push(join(dirname(new URL(import.meta.url).pathname), "compose.yaml"));
  envFile ??= join(firstFileDir(files), ".env");
  const vars = { ...(existsSync(envFile) ? readEnvFile(envFile) : {}), ...process.env };
  const [command, ...services] = rest;
  const stack = loadStack(files, vars, project);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  if (command === "up") await up(stack, services, say);
  else if (command === "down") await down(stack, withVolumes);
  else if (command === "kill") for (const s of services) await kill(stack, s);
  else if (command === "stop") for (const s of services) await podman(["stop", containerName(stack, s)]);
  else if (command === "start")
    for (const s of services) {
      await podman(["start", containerName(stack, s)]);
      say(`${s} healthy ${((await waitHealthy(stack, s)) / 1000).toFixed(1)} s after its start`);
    }
  else if (command === "ps") say(await podman(["ps", "-a", "--filter", `label=io.podman.compose.project=${project}`]));
  else throw new Error("usage: deploy/podman.ts up|down|ps|kill|start|stop [SERVICE...] (see the top of the file)");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`deploy/podman.ts: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
