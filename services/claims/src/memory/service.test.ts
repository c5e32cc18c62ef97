// The pool's relay of an owner's memory calls (memory/service.ts), fast: the
// real AgentMemoryService handlers over an in-memory Connect transport, with
// no database, verifier or host behind them, for what is refused before any
// is reached. The relay to a real agent, signatures and nonces included:
// services/e2e/src/memory-e2e.int.test.ts.
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { refusal } from "@convos-pool/kit/testing";
import { createAgentMemoryService, type AgentMemoryServiceDeps } from "./service.js";

const memory = createClient(
  AgentMemoryService,
  createRouterTransport((router) => {
    router.service(AgentMemoryService, createAgentMemoryService({} as AgentMemoryServiceDeps));
  }),
);
const ONE = ["mem_0123456789ab"];

describe("sharing and forgetting entries, before anything is read", () => {
  it("refuses none or more than 100 ids with INVALID_ARGUMENT naming entry_ids", async () => {
    const many = Array.from({ length: 101 }, () => ONE[0]!);
    for (const entryIds of [[], many]) {
      for (const call of [
        memory.shareMemory({ instanceId: "inst_1", entryIds, share: true }),
        memory.forgetMemory({ instanceId: "inst_1", entryIds }),
      ]) {
        const err = await refusal(call);
        expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^entry_ids:/)]);
      }
    }
  });

  it("asks the caller to sign in as the agent's owner", async () => {
    const err = await refusal(memory.shareMemory({ instanceId: "inst_1", entryIds: ONE, share: false }));
    expect(err.code).toBe(Code.Unauthenticated);
  });
});

describe("an import's sealed box, before anything is read", () => {
  it("names every part of a sealed box that cannot be one at once, not the first only", async () => {
    const err = await refusal(
      memory.importMemory({
        instanceId: "inst_1",
        sealed: { ephemeralPublicKey: new Uint8Array(31), nonce: new Uint8Array(0), ciphertext: new Uint8Array(0) },
      }),
    );
    expect([err.code, fieldViolations(err).map((v) => v.field)]).toEqual([
      Code.InvalidArgument,
      ["sealed.ephemeral_public_key", "sealed.nonce", "sealed.ciphertext"],
    ]);
  });
});
