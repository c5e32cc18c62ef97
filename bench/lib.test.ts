import { describe, expect, it } from "vitest";
import { heapBySource, type HeapProfile } from "./lib.js";

type Node = HeapProfile["head"];
const frame = (url: string, selfSize: number, children: Node[] = []): Node => ({
  callFrame: { functionName: "f", url, lineNumber: 0 },
  selfSize,
  children,
});

describe("heapBySource", () => {
  it("counts each sample to its nearest frame of a known source, itself or a caller", () => {
    const profile: HeapProfile = {
      head: frame("", 0, [
        // A builtin (no url) under the service's code, under an HTTP/2 callback: the service's.
        frame("node:internal/http2/core", 100, [
          frame("file:///app/services/claims/src/claim/claim-flow.ts", 10, [frame("", 5)]),
        ]),
        // MikroORM called by the service: the database's, its builtins too.
        frame("file:///app/services/claims/src/claim/claim-sql.ts", 0, [
          frame("file:///app/node_modules/@mikro-orm/core/EntityManager.js", 20, [frame("", 7)]),
        ]),
        frame("file:///app/node_modules/@connectrpc/connect/dist/esm/protocol/run-call.js", 30),
        frame("node:internal/timers", 3),
      ]),
    };
    const { total, bySource } = heapBySource(profile);
    expect(total).toBe(175);
    expect(Object.fromEntries(bySource)).toEqual({
      "RPC (HTTP/2, Connect)": 130,
      "database (pg, Kysely, MikroORM)": 27,
      "the services' own code": 15,
      other: 3,
    });
  });
});
