// InstanceHostService.ConfigureInstances, JoinConversations and
// AttestInstances: a claim's three calls to its agent, for many agents of this
// host at once (docs/claims.md, "The claim flow"; docs/instance.md).
//
// Under load the claims service has many claims in flight on each host; one
// call for all of them costs one round trip and one call's machinery instead
// of one per claim. Each named agent still runs its own configure,
// joinConversation or attest, the very code InstanceService.Configure,
// JoinConversation and Attest run, so a batch can do no more than the single
// calls: each agent checks its release or its attestation itself (a dormant
// one wakes for it), and its refusal is its answer alone, with the code,
// message and details the single call would have failed with.
//
// Joins wait for their invites' creators (seconds, up to the join timeout):
// they all run at once and each outcome is streamed as soon as it ends.

import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { asTheySettle, toInstanceCallError, type Logger } from "@convos-pool/kit/server";
import { invalidArgument, notFound } from "@convos-pool/kit/content";
import {
  InstanceAttestOutcomeSchema,
  InstanceConfigureOutcomeSchema,
  JoinConversationsResponseSchema,
  type InstanceCallError,
  type AttestInstancesRequest,
  type ConfigureInstancesRequest,
  type InstanceAttestOutcome,
  type InstanceConfigureOutcome,
  type JoinConversationsRequest,
  type JoinConversationsResponse,
} from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { AttestRequestSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { Agent } from "../agent/face/agent.js";
import { MAX_BATCH_INSTANCES } from "./batch-updates.js";
import { INSTANCE_ID_PATTERN } from "../platform/workspace.js";

/** As the single call's logging interceptor: these codes are the host's faults, the rest the caller's or the agent's refusals. */
const HOST_FAULTS = new Set<Code>([Code.Unknown, Code.Internal, Code.DataLoss]);

/** One agent's part of a batch: its success, or its refusal as its own call's error. */
type Outcome<C extends string, V> = {
  instanceId: string;
  outcome: { case: C; value: V } | { case: "error"; value: InstanceCallError };
};

export interface HostClaimsOptions {
  /** The agent of that id on this host. */
  find(instanceId: string): Agent | undefined;
  log: Logger;
}

export interface HostClaims {
  configureInstances(req: ConfigureInstancesRequest): Promise<{ outcomes: InstanceConfigureOutcome[] }>;
  joinConversations(req: JoinConversationsRequest, signal: AbortSignal): AsyncIterable<JoinConversationsResponse>;
  attestInstances(req: AttestInstancesRequest): Promise<{ outcomes: InstanceAttestOutcome[] }>;
}

export function createHostClaims(opts: HostClaimsOptions): HostClaims {
  /** The agent, or NOT_FOUND as the single call's `x-pool-instance` of an agent not here. */
  function agent(instanceId: string): Agent {
    const found = opts.find(instanceId);
    if (!found) throw notFound(`instance ${instanceId}`);
    return found;
  }

  /** One agent's failure, as its own call's error; logged as the logging interceptor would have logged that call. */
  function refusal(procedure: string, instanceId: string, err: unknown) {
    const error = toInstanceCallError(err);
    const fields = { procedure, instanceId, code: Code[error.code] ?? String(error.code), error: err };
    if (HOST_FAULTS.has(error.code)) opts.log.error("instance call failed", fields);
    else opts.log.info("instance call refused", fields);
    return error;
  }

  /** One agent's part of a batch: the success case with what `run` gave, or its refusal; never a throw. */
  async function outcomeOf<C extends string, V>(
    procedure: string,
    instanceId: string,
    success: C,
    run: () => Promise<V>,
  ): Promise<Outcome<C, V>> {
    try {
      return { instanceId, outcome: { case: success, value: await run() } };
    } catch (err) {
      return { instanceId, outcome: { case: "error", value: refusal(procedure, instanceId, err) } };
    }
  }

  /**
   * A batch answered once every outcome is in (configure, attest): the
   * targets checked, each agent's `run` as its outcome (`wrap` makes it the
   * message), in the order asked; how many came out `success` is logged.
   */
  async function allOf<R extends { instanceId: string }, C extends string, V, O>(
    procedure: string,
    success: C,
    items: R[],
    run: (agent: Agent, item: R) => Promise<V>,
    wrap: (outcome: Outcome<C, V>) => O,
  ): Promise<{ outcomes: O[] }> {
    checkTargets(
      "instances",
      items.map((r) => r.instanceId),
    );
    const settled = await Promise.all(
      items.map((r) => outcomeOf(procedure, r.instanceId, success, () => run(agent(r.instanceId), r))),
    );
    const succeeded = settled.filter((o) => o.outcome.case === success).length;
    opts.log.info(`instances ${success}`, { asked: settled.length, [success]: succeeded });
    return { outcomes: settled.map(wrap) };
  }

  return {
    configureInstances: (req) =>
      allOf(
        "ConfigureInstances",
        "configured",
        req.instances,
        async (a, r) => {
          await a.configure(r);
          return {};
        },
        (o) => create(InstanceConfigureOutcomeSchema, o),
      ),

    async *joinConversations(req, signal) {
      checkTargets(
        "joins",
        req.joins.map((j) => j.instanceId),
      );
      // Every join starts now; each outcome goes out as it settles.
      yield* asTheySettle(
        req.joins.map(async (j) =>
          create(
            JoinConversationsResponseSchema,
            await outcomeOf("JoinConversations", j.instanceId, "joined", async () => ({
              conversationId: await agent(j.instanceId).joinConversation(j.conversationInvite, signal),
            })),
          ),
        ),
      );
    },

    attestInstances: (req) =>
      allOf(
        "AttestInstances",
        "attested",
        req.instances,
        // An item without its request is what the single call gets with an empty body.
        (a, r) => a.attest(r.attest ?? create(AttestRequestSchema)),
        (o) => create(InstanceAttestOutcomeSchema, o),
      ),
  };
}

/** 1 to MAX_BATCH_INSTANCES instance ids, each well formed and named once: otherwise the whole call is INVALID_ARGUMENT. */
function checkTargets(field: string, ids: string[]): void {
  if (ids.length === 0) throw invalidArgument(field, "at least one instance");
  if (ids.length > MAX_BATCH_INSTANCES)
    throw invalidArgument(field, `at most ${MAX_BATCH_INSTANCES} per call, not ${ids.length}`);
  const seen = new Set<string>();
  for (const [i, id] of ids.entries()) {
    if (!INSTANCE_ID_PATTERN.test(id))
      throw invalidArgument(
        `${field}[${i}].instance_id`,
        "1 to 128 letters, digits, '_' or '-', starting with a letter or digit",
      );
    if (seen.has(id)) throw invalidArgument(`${field}[${i}].instance_id`, `instance ${id} is named twice`);
    seen.add(id);
  }
}
