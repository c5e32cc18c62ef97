// The host's patience with a keys service that is away (keys-client.ts): one
// window for the outage, not one per agent, so that a host restoring many
// agents while the service is away does not wait the window for each. The
// "service" here is an HTTP/2 server that counts the asks and answers each as
// Connect says unavailable (503), or refuses (403). The host waits by a test
// clock that moves as it sleeps, so the windows pass without the wall clock.
import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, generateServiceCredentials } from "@convos-pool/kit/server";
import { remoteKeys, type RemoteKeys } from "./keys-client.js";

let server: Http2Server;
let asks = 0;
let answer: { status: number; code: string } = { status: 503, code: "unavailable" };
let keys: RemoteKeys;
/** The test's clock: the host's waits move it at once. */
let clockMs = 0;
const sleep = async (ms: number) => {
  clockMs += ms;
};

beforeAll(async () => {
  server = createServer((req, res) => {
    asks++;
    req.resume();
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(JSON.stringify({ code: answer.code, message: "not now" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  keys = remoteKeys(url, generateServiceCredentials()["instance-host"], createLogger("test", { level: "error" }), {
    windowMs: 1_200,
    gapMs: 2_000,
    clock: { now: () => clockMs, sleep },
  });
});

afterAll(async () => {
  keys.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** How many times one ask for `id`'s key asked the service, and how it ended. */
async function ask(id: string): Promise<{ asked: number; err: unknown }> {
  const before = asks;
  const err = await keys.wallet(id, 0).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { asked: asks - before, err };
}

describe("a host's patience with the keys service", () => {
  it("asks again through the window, then fails the start as a crash (not a Connect refusal)", async () => {
    const first = await ask("inst_a");
    expect(first.asked).toBeGreaterThanOrEqual(3);
    expect(first.err).toBeInstanceOf(Error);
    expect(first.err).not.toBeInstanceOf(ConnectError);
    expect(String(first.err)).toMatch(/keys service did not answer for the key of inst_a/);
  });

  it("asks once for the next agent once the same outage has outlasted the window", async () => {
    await sleep(1_200);
    const next = await ask("inst_b");
    expect(next.asked).toBe(1);
    expect(String(next.err)).toMatch(/did not answer/);
  });

  it("waits a whole window again for a failure after a quiet gap: an old outage nobody asked through is not this one", async () => {
    await sleep(2_100);
    const later = await ask("inst_e");
    expect(later.asked).toBeGreaterThanOrEqual(3);
    expect(String(later.err)).toMatch(/did not answer for the key of inst_e/);
  });

  it("waits a whole window again after the service has answered, even with a refusal", async () => {
    answer = { status: 403, code: "permission_denied" };
    const refused = await ask("inst_c");
    expect(refused.asked).toBe(1);
    expect(refused.err).toBeInstanceOf(ConnectError);
    answer = { status: 503, code: "unavailable" };
    const again = await ask("inst_d");
    expect(again.asked).toBeGreaterThanOrEqual(3);
  });
});
