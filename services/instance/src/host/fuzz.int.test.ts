// Bad input to every InstanceService method, and to the host's
// UpdateTemplates (one release for many agents; docs/reliability.md): a real
// instance host on a local XMTP node with two agents, one idle and one whose
// workspace is watched, called as the claims service calls them (its
// credential, the instance header) with generated bad requests: wrong types,
// huge and empty strings, unknown enum numbers, invalid UTF-8, deep JSON,
// each request message's own fields with odd values, truncated protobuf
// (kit/testing/fuzz.ts, shared with the other fuzzing), missing, unknown and
// huge instance headers. Every answer is a code other than INTERNAL or
// UNKNOWN, an INVALID_ARGUMENT names its field (or the request message as a
// whole, when it does not decode), and no agent changes.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ConnectError } from "@connectrpc/connect";
import { errorFromJson } from "@connectrpc/connect/protocol-connect";
import { fc } from "@fast-check/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { INSTANCE_HEADER } from "@convos-pool/kit/content";
import { FUZZ_RUNS, fieldNameProblem, rpcBodies } from "@convos-pool/testing/fuzz";
import { OneHost } from "@convos-pool/instance/testing";
import type { RunningInstanceHost } from "./host.js";

const one = new OneHost({ name: "instance-fuzz", host: { maxInstances: 3 }, conversations: "none" });
const CREDS = one.creds;
let host: RunningInstanceHost;
let dir: string;

/** Every file of the host's workspaces, with its contents: the same before and after. */
async function workspaces(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      // The XMTP client's own database changes as it syncs: not the agent's state.
      if (e.isDirectory()) await walk(p);
      else if (!/\.db3?(-wal|-shm)?$|xmtp/.test(e.name)) out[p] = (await readFile(p)).toString("base64");
    }
  };
  await walk(join(dir, "host"));
  return out;
}

beforeAll(async () => {
  ({ dir, host } = await one.start());
  await one.hostRpc.client.startInstance({ instanceId: "inst-fuzz-a", walletIndex: 1 });
  await one.hostRpc.client.startInstance({ instanceId: "inst-fuzz-b", walletIndex: 2 });
}, 90_000);

afterAll(() => one.close());

const instanceHeader = fc.oneof(
  fc.constant("inst-fuzz-a"),
  fc.constant(undefined),
  fc.constant("inst-nobody"),
  fc.string({ maxLength: 200 }).filter((s) => /^[\x21-\x7e]*$/.test(s)),
  fc.constant("i".repeat(8_000)),
);

describe("every InstanceService method, given bad input", () => {
  it("answers a code other than INTERNAL or UNKNOWN, naming the field of an invalid argument, and no agent changes", {
    timeout: 300_000,
  }, async () => {
    const before = await workspaces();
    expect(Object.keys(before).length, "the agents' workspace files").toBeGreaterThan(0);
    const methods = [
      ...InstanceService.methods.filter((m) => m.methodKind === "unary"),
      InstanceHostService.method.updateTemplates,
    ];
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...methods).chain((m) => fc.tuple(fc.constant(m), rpcBodies(m.input))),
        instanceHeader,
        async ([method, { type, body }], instance) => {
          tried++;
          const headers: Record<string, string> = {
            "content-type": type,
            "connect-protocol-version": "1",
            "x-pool-service-token": CREDS.claims.token,
          };
          if (instance !== undefined) headers[INSTANCE_HEADER] = instance;
          const res = await fetch(`${host.url}/${method.parent.typeName}/${method.name}`, {
            method: "POST",
            headers,
            body,
          });
          const text = await res.text();
          if (res.status === 200) return;
          const where = `${method.name}: ${text.slice(0, 300)}`;
          const json = JSON.parse(text) as { code?: string };
          expect(json.code, where).toBeTruthy();
          expect(["internal", "unknown"], where).not.toContain(json.code);
          const err = errorFromJson(json, undefined, new ConnectError("no error body"));
          // The instance the call is for is a header, and named as one.
          expect(fieldNameProblem(method.input, err, { headers: [INSTANCE_HEADER] }), where).toBeUndefined();
        },
      ),
      { numRuns: FUZZ_RUNS * methods.length },
    );
    console.log(`fuzz: ${tried} InstanceService and UpdateTemplates calls over ${methods.length} methods`);
    for (const id of ["inst-fuzz-a", "inst-fuzz-b"]) expect(host.instances.get(id)?.state, id).toBe(InstanceState.IDLE);
    expect(await workspaces()).toEqual(before);
  });
});
