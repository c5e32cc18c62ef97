/**
 * An agent's activity log for its owner (ListAgentActivity): the agent keeps
 * it, the pool passes it on. A session alone reads each entry without whom
 * or what it was for, the amount, the details and who asked, so that a
 * stolen session learns no recipient, amount or member; the owner's
 * signature of the read (EIP-712 `ReadAgentActivity`, single-use) brings the
 * entries whole (docs/security.md, "What a session can do").
 */
import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import {
  type ListAgentActivityRequest,
  type ListAgentActivityResponse,
  ListAgentActivityResponseSchema,
} from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { type ActivityEntry, ActivityEntrySchema } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { ListActivityRequestSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { nonceUsed, unauthenticated } from "@convos-pool/kit/content";
import { callerInboxId, pageSize } from "@convos-pool/kit/server";
import { consumeNonce } from "@convos-pool/kit/service";
import type { SignatureVerifier } from "@convos-pool/kit/signing";
import type { EntityManager } from "@mikro-orm/postgresql";
import { askAgent, type InstanceRuntime } from "../hosts/runtime.js";
import { callersLiveAgent } from "./policy.js";
import { agentForFlow } from "./sql.js";
import { ledgerOf } from "../signer/sql.js";

/** The payment signer's ledger entries a detailed read brings, newest first. */
const LEDGER_PAGE = 100;

/** The owner's own changes (a level and its limit, who may ask): nobody else's data, and nothing they did not set. */
const OWNERS_CHANGES = new Set(["trust", "permissions"]);

/**
 * An entry as a session alone reads it: what, when, how it ended, at which
 * level, approved or not and the asker's role; not whom or what it was for,
 * how much, its details (a mail's subject, a transaction), or who asked. The
 * owner's own changes are whole.
 */
export function withoutDetails(e: ActivityEntry): ActivityEntry {
  if (OWNERS_CHANGES.has(e.toolId)) return e;
  return create(ActivityEntrySchema, {
    id: e.id,
    ...(e.at ? { at: e.at } : {}),
    toolId: e.toolId,
    action: e.action,
    outcome: e.outcome,
    trustLevel: e.trustLevel,
    approved: e.approved,
    askedByRole: e.askedByRole,
  });
}

export interface ActivityDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
  runtime: Pick<InstanceRuntime, "listActivity">;
}

/**
 * Its owner's only, signed in (anyone else: NOT_FOUND). A signature not the
 * owner's, or for another agent: PERMISSION_DENIED naming `owner_signature`;
 * one used before: UNAUTHENTICATED naming its nonce.
 */
export async function listAgentActivity(
  deps: ActivityDeps,
  req: ListAgentActivityRequest,
  ctx: HandlerContext,
): Promise<ListAgentActivityResponse> {
  const caller = callerInboxId(ctx);
  if (caller === undefined) throw unauthenticated("sign in to read your agent's activity");
  const agent = callersLiveAgent(req.instanceId, await agentForFlow(deps.em.fork(), req.instanceId), caller);
  pageSize(req.pageSize);
  const signature = req.ownerSignature;
  if (signature) {
    const verified = await deps.verifier.verify(
      "ReadAgentActivity",
      { inboxId: agent.ownerId, instanceId: req.instanceId },
      signature,
      "owner_signature",
    );
    if (
      !(await consumeNonce(deps.em.fork(), {
        nonce: verified.nonce,
        inboxId: agent.ownerId,
        purpose: "ReadAgentActivity",
      }))
    )
      throw nonceUsed("owner_signature.nonce");
  }
  const page = await askAgent("the activity log", () =>
    deps.runtime.listActivity(
      agent,
      create(ListActivityRequestSchema, { pageSize: req.pageSize, pageToken: req.pageToken }),
    ),
  );
  const detailed = signature !== undefined;
  // What the payment signer signed for its wallet, whichever host asked: read from the pool's own ledger.
  const signed = detailed && req.pageToken === "" ? await ledgerOf(deps.em.fork(), req.instanceId, LEDGER_PAGE) : [];
  return create(ListAgentActivityResponseSchema, {
    entries: detailed ? page.entries : page.entries.map(withoutDetails),
    nextPageToken: page.nextPageToken,
    detailed,
    signedPayments: signed.map((p) => ({ ...p, signedAt: p.signedAt.toISOString() })),
  });
}
