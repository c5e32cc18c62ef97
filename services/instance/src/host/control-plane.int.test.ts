// An instance host's client of the control plane when the service is busy.
// Real: a kit server (startServer over HTTP/2) serving AgentStateMarkService
// under the service-credential check, refusing as a busy service does
// (limitExceeded: RESOURCE_EXHAUSTED with RetryInfo), the kit's service
// client and retry policy, the host's logger. Stand-ins: the service's
// handler (refuses a set number of calls, then answers) and the wait, which
// records its milliseconds and returns at once.
import { AgentStateMarkService } from "@convos-pool/gen/convos/pool/v1/state_mark_service_pb.js";
import {
  createLogger,
  generateServiceCredentials,
  hostCredentials,
  limitExceeded,
  type RunningServer,
  serviceAuthInterceptor,
  startServer,
} from "@convos-pool/kit/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controlPlaneClient, hostRetrier } from "./control-plane.js";

const HOST_URL = "http://127.0.0.1:1";
let server: RunningServer;
let refuse = 0;
let handled = 0;
const creds = generateServiceCredentials(undefined, [HOST_URL]);

beforeAll(async () => {
  server = await startServer({
    name: "claims",
    log: createLogger("claims", { level: "debug" }),
    interceptors: [
      serviceAuthInterceptor(creds.claims.directory, { [AgentStateMarkService.typeName]: ["instance-host"] }),
    ],
    routes: (router) =>
      router.service(AgentStateMarkService, {
        putStateMarks() {
          handled++;
          if (refuse > 0) {
            refuse--;
            throw limitExceeded("claims at capacity", "the claims service is busy", 2);
          }
          return { outcomes: [] };
        },
      }),
  });
});
afterAll(() => server.close());

function host() {
  const lines: { level: string; msg: string }[] = [];
  const log = createLogger("instance-host", {
    level: "info",
    sink: (line) => lines.push(JSON.parse(line) as { level: string; msg: string }),
  });
  const waits: number[] = [];
  const retrier = hostRetrier(log, { sleep: async (ms) => void waits.push(ms), random: () => 0 });
  const made = controlPlaneClient(AgentStateMarkService, server.url, hostCredentials(creds, HOST_URL), retrier);
  return { client: made.client, close: () => made.close(), lines, waits };
}

describe("a host's call to a busy control plane", () => {
  it("waits the named delay, logs that the pool is busy, and then succeeds", async () => {
    const h = host();
    refuse = 1;
    handled = 0;
    await h.client.putStateMarks({ marks: [] });
    h.close();
    expect(handled).toBe(2);
    expect(h.waits).toEqual([2000]);
    expect(h.lines).toContainEqual(
      expect.objectContaining({ level: "info", msg: "the pool is busy, trying again in 2 s" }),
    );
  });

  it("logs the refusal it gives up on past the call's deadline, and the caller hears it", async () => {
    const h = host();
    refuse = 1;
    handled = 0;
    await expect(h.client.putStateMarks({ marks: [] }, { timeoutMs: 1500 })).rejects.toThrow(/busy/);
    h.close();
    expect(handled).toBe(1);
    expect(h.waits).toEqual([]);
    expect(h.lines).toContainEqual(expect.objectContaining({ level: "warn" }));
  });
});
