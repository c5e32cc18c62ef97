// The start-up check of `npm start`'s fixed ports: real listeners on
// loopback in this process (nothing is a stand-in).
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { checkPorts, fixedPorts, localPortsFromEnv, PortError } from "./ports.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function listening(): Promise<number> {
  const s = createServer();
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as { port: number }).port;
}

/** Ports free a moment ago, for every variable but the one a test takes. */
async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await listening());
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  return ports;
}

async function envOfFreePorts(): Promise<Record<string, string>> {
  const [a, b, c, d, e, f] = await freePorts(6);
  return {
    PORT: String(a),
    XMTP_PORT: String(b),
    CHAIN_PORT: String(c),
    MAIL_PORT: String(d),
    POP3_PORT: String(e),
    SMS_PORT: String(f),
  };
}

describe("npm start's fixed ports", () => {
  it("are the documented defaults, each moved by its own variable; a free one (0) is not checked", () => {
    expect(fixedPorts({}).map((p) => `${p.variable}=${p.port}`)).toEqual([
      "PORT=8080",
      "XMTP_PORT=5556",
      "CHAIN_PORT=8545",
      "MAIL_PORT=2525",
      "POP3_PORT=1110",
      "SMS_PORT=8125",
    ]);
    expect(fixedPorts({ XMTP_PORT: "6556", XMTP_METRICS_PORT: "9100", PORT: "0" }).map((p) => p.port)).toEqual([
      6556, 9100, 8545, 2525, 1110, 8125,
    ]);
    expect(localPortsFromEnv({ SMS_PORT: "9125" })).toEqual({
      chainPort: 8545,
      mailPort: 2525,
      pop3Port: 1110,
      smsPort: 9125,
    });
  });

  it("refuses a variable that is not a port number, naming it", () => {
    expect(() => fixedPorts({ CHAIN_PORT: "eighty" })).toThrow("CHAIN_PORT must be a port number, 1 to 65535");
    expect(() => fixedPorts({ PORT: "70000" })).toThrow("PORT must be a port number");
  });

  it("a port in use names the port, what wanted it, the variable that moves it, and that another pool may be running", async () => {
    const env = await envOfFreePorts();
    env.XMTP_PORT = String(await listening());
    const err = await checkPorts(env, "127.0.0.1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortError);
    expect((err as Error).message).toBe(
      [
        `npm start: port ${env.XMTP_PORT} on 127.0.0.1 is in use, so the local XMTP node cannot listen there.`,
        "Another pool may already be running (`npm start` in another terminal): stop it with Ctrl-C there,",
        "or move this one with XMTP_PORT=<another port> npm start (docs/running.md lists each port's variable).",
      ].join("\n"),
    );
  });

  it("passes when every port is free, and leaves them free", async () => {
    const env = await envOfFreePorts();
    await expect(checkPorts(env, "127.0.0.1")).resolves.toBeUndefined();
    await expect(checkPorts(env, "127.0.0.1")).resolves.toBeUndefined();
  });

  it("refuses two variables set to one port", async () => {
    const env = await envOfFreePorts();
    env.SMS_PORT = env.MAIL_PORT!;
    await expect(checkPorts(env, "127.0.0.1")).rejects.toThrow(
      `npm start: MAIL_PORT and SMS_PORT are both ${env.MAIL_PORT}: give each its own port`,
    );
  });
});
