// InstanceHostService.UpdateTemplates: one template release for many agents
// of this host (docs/claims.md, "Instruction sync"; docs/instance.md).
//
// The claims service delivers a release per host, not per agent: one call
// names the host's agents that are due, each with its own tool credentials.
// The release arrives decoded once for all of them; its signatures are
// checked once for the host (kit VerifiedReleases) and the rest of its chain
// check once per template and creator expected (agent/face/update.ts,
// shareReleaseChecks). Then every agent applies it through its own
// updateTemplate, exactly as InstanceService.UpdateTemplate does: it checks
// the release against the template and creator it was configured with and
// refuses a key not newer than the one applied, so the pool can no more forge
// what a batch of agents runs on than what one does (docs/security.md). One
// agent's refusal or failure is its answer alone; the others apply.

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { invalidArgument } from "@convos-pool/kit/content";
import { MAX_ERROR_MESSAGE, type Logger } from "@convos-pool/kit/server";
import {
  TemplateUpdateOutcomeSchema,
  type TemplateUpdateOutcome,
  type UpdateTemplatesRequest,
} from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceServiceUpdateTemplateRequestSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { Agent } from "../agent/face/agent.js";
import { shareReleaseChecks } from "../agent/face/update.js";
import { INSTANCE_ID_PATTERN } from "../platform/workspace.js";

/** Agents one call may name: a host runs 1,000 by default. */
export const MAX_BATCH_INSTANCES = 1_000;
/**
 * Agents applying an update at once, over every call: each writes its
 * credentials, IDENTITY.md and config.json, so this bounds the host's open
 * files and its event loop's share, not the work.
 */
export const DEFAULT_SYNC_CONCURRENCY = 32;

export interface HostSyncOptions {
  /** The agent of that id on this host. */
  find(instanceId: string): Agent | undefined;
  log: Logger;
  concurrency?: number;
}

export interface HostSync {
  updateTemplates(req: UpdateTemplatesRequest, signal: AbortSignal): Promise<{ outcomes: TemplateUpdateOutcome[] }>;
}

export function createHostSync(opts: HostSyncOptions): HostSync {
  const limit = new Limiter(opts.concurrency ?? DEFAULT_SYNC_CONCURRENCY);

  /** What one agent answers: applied, or the code and message its own UpdateTemplate would have failed with. */
  async function applyTo(
    instanceId: string,
    req: UpdateTemplatesRequest,
    tools: UpdateTemplatesRequest["instances"][number]["tools"],
  ): Promise<TemplateUpdateOutcome> {
    const agent = opts.find(instanceId);
    if (!agent) return failed(instanceId, Code.NotFound, `instance ${instanceId} not found on this host`);
    try {
      const applied = await agent.updateTemplate(
        create(InstanceServiceUpdateTemplateRequestSchema, { template: req.template, bases: req.bases, tools }),
      );
      return create(TemplateUpdateOutcomeSchema, { instanceId, outcome: { case: "applied", value: applied } });
    } catch (err) {
      if (err instanceof ConnectError) return failed(instanceId, err.code, err.rawMessage);
      // Not a refusal: a fault of this host (a write that failed). Its detail is for the host's log only.
      opts.log.error("template update failed", { instanceId, err });
      return failed(instanceId, Code.Internal, "the agent could not apply the update; see its host's log");
    }
  }

  return {
    async updateTemplates(req, signal) {
      if (!req.template) throw invalidArgument("template", "required");
      if (req.instances.length === 0) throw invalidArgument("instances", "at least one instance to update");
      if (req.instances.length > MAX_BATCH_INSTANCES)
        throw invalidArgument("instances", `at most ${MAX_BATCH_INSTANCES} per call, not ${req.instances.length}`);
      const seen = new Set<string>();
      for (const [i, target] of req.instances.entries()) {
        if (!INSTANCE_ID_PATTERN.test(target.instanceId)) {
          throw invalidArgument(
            `instances[${i}].instance_id`,
            "1 to 128 letters, digits, '_' or '-', starting with a letter or digit",
          );
        }
        if (seen.has(target.instanceId))
          throw invalidArgument(`instances[${i}].instance_id`, `instance ${target.instanceId} is named twice`);
        seen.add(target.instanceId);
      }
      shareReleaseChecks(req.template, req.bases);
      const outcomes = await Promise.all(
        req.instances.map((target) =>
          limit.run(() => {
            // The caller gave up: what has not started does not start (it is still due on the pool's side).
            if (signal.aborted)
              return Promise.resolve(
                failed(target.instanceId, Code.Canceled, "the call ended before this agent's turn"),
              );
            return applyTo(target.instanceId, req, target.tools);
          }),
        ),
      );
      const applied = outcomes.filter((o) => o.outcome.case === "applied").length;
      opts.log.info("template updates applied", {
        templateId: req.template.templateId,
        version: String(req.template.version),
        agents: outcomes.length,
        applied,
      });
      return { outcomes };
    },
  };
}

function failed(instanceId: string, code: Code, message: string): TemplateUpdateOutcome {
  return create(TemplateUpdateOutcomeSchema, {
    instanceId,
    outcome: { case: "error", value: { code, message: message.slice(0, MAX_ERROR_MESSAGE / 4) } },
  });
}

/** At most `max` jobs at once, the others queued in order. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
