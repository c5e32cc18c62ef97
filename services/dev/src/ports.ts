// The fixed ports `npm start` listens on, each moved by its own variable
// (docs/running.md), and the start-up check that they are free: a port in
// use is most often another pool already running, and the person starting
// this one needs to hear that, and which variable moves it, not a listener's
// stack trace. Checked before anything starts, so nothing is left half up.
import { createServer } from "node:net";
import { DEFAULT_DEVNODE_PORT } from "@convos-pool/xmtp-devnode";

// The local providers' fixed ports live here, not in pool.ts: the check needs them before
// (and without) loading every service pool.ts starts.
export const DEFAULT_CHAIN_PORT = 8545;
export const DEFAULT_MAIL_PORT = 2525;
export const DEFAULT_POP3_PORT = 1110;
export const DEFAULT_SMS_PORT = 8125;

export interface FixedPort {
  /** The environment variable that moves it. */
  variable: string;
  /** What listens there, in a few words. */
  what: string;
  port: number;
}

type Env = Record<string, string | undefined>;

const PORTS: { variable: string; what: string; fallback: number }[] = [
  { variable: "PORT", what: "the gateway and web app", fallback: 8080 },
  { variable: "XMTP_PORT", what: "the local XMTP node", fallback: DEFAULT_DEVNODE_PORT },
  { variable: "XMTP_METRICS_PORT", what: "the XMTP node's metrics", fallback: 0 },
  { variable: "CHAIN_PORT", what: "the local chain (agents' wallets)", fallback: DEFAULT_CHAIN_PORT },
  { variable: "MAIL_PORT", what: "the local mail server (SMTP)", fallback: DEFAULT_MAIL_PORT },
  { variable: "POP3_PORT", what: "the local mail server (POP3)", fallback: DEFAULT_POP3_PORT },
  { variable: "SMS_PORT", what: "the local SMS stand-in", fallback: DEFAULT_SMS_PORT },
];

/** A port number from a variable: unset or empty is the default; anything else but 0 to 65535 is refused. */
function portOf(env: Env, variable: string, fallback: number): number {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || n > 65_535) throw new PortError(`${variable} must be a port number, 1 to 65535`);
  return n;
}

/** A start-up problem with a port, said in a sentence: main prints it, without a stack, and exits 1. */
export class PortError extends Error {
  override name = "PortError";
}

/** Every fixed port as the environment sets it; 0 (a free one) is left out, as nothing can be in its way. */
export function fixedPorts(env: Env): FixedPort[] {
  return PORTS.map(({ variable, what, fallback }) => ({
    variable,
    what,
    port: portOf(env, variable, fallback),
  })).filter((p) => p.port !== 0);
}

/** The local providers' ports for startPool, from CHAIN_PORT, MAIL_PORT, POP3_PORT and SMS_PORT. */
export function localPortsFromEnv(env: Env): {
  chainPort: number;
  mailPort: number;
  pop3Port: number;
  smsPort: number;
} {
  return {
    chainPort: portOf(env, "CHAIN_PORT", DEFAULT_CHAIN_PORT),
    mailPort: portOf(env, "MAIL_PORT", DEFAULT_MAIL_PORT),
    pop3Port: portOf(env, "POP3_PORT", DEFAULT_POP3_PORT),
    smsPort: portOf(env, "SMS_PORT", DEFAULT_SMS_PORT),
  };
}

/** What to tell the person starting the pool when a port is in use. */
export function portInUseMessage(p: FixedPort, host: string): string {
  return [
    `npm start: port ${p.port} on ${host} is in use, so ${p.what} cannot listen there.`,
    "Another pool may already be running (`npm start` in another terminal): stop it with Ctrl-C there,",
    `or move this one with ${p.variable}=<another port> npm start (docs/running.md lists each port's variable).`,
  ].join("\n");
}

/** Whether something already listens on the port (a listen there fails with EADDRINUSE). */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") resolve(true);
      else reject(err);
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

/** Throws a PortError naming the first fixed port in use and the variable that moves it. */
export async function checkPorts(env: Env, host: string): Promise<void> {
  const ports = fixedPorts(env);
  const seen = new Map<number, FixedPort>();
  for (const p of ports) {
    const same = seen.get(p.port);
    if (same)
      throw new PortError(`npm start: ${same.variable} and ${p.variable} are both ${p.port}: give each its own port`);
    seen.set(p.port, p);
  }
  for (const p of ports) if (await portInUse(host, p.port)) throw new PortError(portInUseMessage(p, host));
}

/** The check as `npm start` runs it: a problem printed as it is, exit code 1, no stack. */
export async function exitIfPortsTaken(env: Env): Promise<void> {
  try {
    await checkPorts(env, env.HOST ?? "127.0.0.1");
  } catch (err) {
    if (!(err instanceof PortError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
