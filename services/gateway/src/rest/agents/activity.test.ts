// The owner's read of an agent's activity whole on REST (POST
// …/activity/list; docs/rest.md, "One contract, every face"): the real route
// handler, run in memory over a STAND-IN claims forwarder that answers as the
// test says (test/routes.ts). What is real: the body's reading, what is
// relayed and what REST answers; the claims service is not.

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ListAgentActivityResponseSchema } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { describe, expect, it } from "vitest";
import type { ClaimsForwarder } from "../../connect/forward.js";
import { recordingDeps, runRoute } from "../../../test/routes.js";
import { BASE } from "../core/request.js";
import { AGENT_ROUTES } from "./routes.js";

const WHOLE = AGENT_ROUTES.find((r) => r[1] === "/agents/:id/activity/list")!;
const SIGNATURE = { signature: `0x${"ab".repeat(65)}`, issued_at: 1_764_000_000, nonce: `0x${"cd".repeat(32)}` };

/** The route over a claims service that answers `answer` (or throws it), and what it was asked. */
async function whole(body: Record<string, unknown>, answer: (req: { ownerSignature?: unknown }) => unknown) {
  const asked: unknown[] = [];
  const claims = {
    listAgentActivity: async (req: { ownerSignature?: unknown }) => {
      asked.push(req);
      return answer(req);
    },
  } as unknown as ClaimsForwarder;
  const out = await runRoute(
    WHOLE,
    { path: `${BASE}/agents/inst_0123456789abcdef/activity/list`, query: new URLSearchParams(), body },
    { ...recordingDeps([]), claims },
  );
  return { out, asked };
}

const notFound = () => {
  throw new ConnectError("agent not found", Code.NotFound);
};
const aSessionsRead = (req: { ownerSignature?: unknown }) =>
  create(ListAgentActivityResponseSchema, { detailed: req.ownerSignature !== undefined });

describe("POST /agents/:id/activity/list", () => {
  it("answers an agent that is not the caller's as the claims service does (404), signed or not", async () => {
    for (const body of [{}, { owner_signature: SIGNATURE }]) {
      const { out } = await whole(body, notFound);
      expect(ConnectError.from(out).code, JSON.stringify(body)).toBe(Code.NotFound);
    }
  });

  it("answers the owner's read without a signature as the session's, not detailed, as Connect does", async () => {
    const { out, asked } = await whole({}, aSessionsRead);
    expect(out).toMatchObject({ status: 200, body: { detailed: false } });
    expect(asked.map((req) => (req as { ownerSignature?: unknown }).ownerSignature)).toEqual([undefined]);
  });

  it("answers the owner's signed read whole", async () => {
    const { out } = await whole({ owner_signature: SIGNATURE }, aSessionsRead);
    expect(out).toMatchObject({ status: 200, body: { detailed: true } });
  });
});
