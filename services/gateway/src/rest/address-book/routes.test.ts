// The address book's listing on REST (docs/rest.md, "REST's own faults
// beside the service's"): the real route handler, run in memory over
// STAND-IN forwarders that record what they are asked (test/routes.ts). What
// is real: the query's reading, the kit's check of the recipient key and the
// error REST answers; the claims service is not.

import { describe, expect, it } from "vitest";
import { recordingDeps, runRoute, type Forwarded } from "../../../test/routes.js";
import { RestError } from "../core/errors.js";
import { BASE } from "../core/request.js";
import { ADDRESS_BOOK_ROUTES } from "./routes.js";

const LIST = ADDRESS_BOOK_ROUTES.find((r) => r[0] === "GET")!;
const KEY = Buffer.alloc(32, 7).toString("base64url");

async function list(query: Record<string, string>) {
  const calls: Forwarded[] = [];
  const out = await runRoute(
    LIST,
    { path: `${BASE}/agents/inst_0123456789abcdef/address-book`, query: new URLSearchParams(query) },
    recordingDeps(calls),
  );
  return { out, calls };
}

const fieldsOf = (out: unknown) => (out instanceof RestError ? out.violations.map((v) => v.field) : out);

describe("GET /agents/:id/address-book", () => {
  it("names a signature parameter left out beside a recipient key the kit refuses, and asks the service nothing", async () => {
    const { out, calls } = await list({ recipient_key: "AAAA", signature: "0xab", issued_at: "1" });
    expect(fieldsOf(out)).toEqual(["nonce", "recipient_key"]);
    expect(calls).toEqual([]);
  });

  it("names a key that is not base64 and an issued_at that is no number at once", async () => {
    const { out, calls } = await list({ recipient_key: "*", signature: "0xab", issued_at: "soon", nonce: "0x01" });
    expect(fieldsOf(out)).toEqual(["recipient_key", "issued_at"]);
    expect(calls).toEqual([]);
  });

  it("sends a key left out on empty and a negative issued_at as it is, for the service to judge with the rest", async () => {
    const { calls } = await list({ signature: "0xab", issued_at: "-5", nonce: "0x01" });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.request).toMatchObject({ recipientKey: new Uint8Array(), ownerSignature: { issuedAt: -5n } });
  });

  it("sends a readable listing on whole", async () => {
    const { calls } = await list({ recipient_key: KEY });
    expect(calls[0]?.request).toMatchObject({ instanceId: "inst_0123456789abcdef", ownerSignature: undefined });
  });
});
