// VersionSignalService: instance hosts report each agent's daily counts for
// the version it runs (docs/signals.md). A host carries them; only the
// agent's own wallet signs them (ReportVersionSignals over every field,
// checked against the agent's inbox as the claims feed gave it, through the
// resolver: the XMTP network in production). A report is refused unless its
// agent is live and of the template it names. Its nonce is spent in the
// transaction that stores it, so an old report cannot be played again over
// a newer one. Logs carry ids and the day, never counts of a person.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { VersionSignalService } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import {
  invalidArgument,
  nonceUsed,
  permissionDenied,
  versionSignalsFields,
  type Logger,
  type SignatureVerifier,
  type VersionSignalsToSign,
} from "@convos-pool/kit";
import { consumeNonce } from "@convos-pool/kit/db";
import { checkInstanceId } from "./patterns-policy.js";
import { checkReport } from "./signals-policy.js";
import { reportingAgent, upsertSignals } from "./signals-queries.js";

export interface VersionSignalDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
  log: Logger;
}

export function createVersionSignalService(deps: VersionSignalDeps): ServiceImpl<typeof VersionSignalService> {
  return {
    async reportSignals(req) {
      checkInstanceId(req.instanceId);
      const report: VersionSignalsToSign = checkReport(req);
      const agent = await reportingAgent(deps.em.fork(), req.instanceId);
      if (!agent?.live) throw new ConnectError(`instance_id: no live instance ${req.instanceId}`, Code.NotFound);
      if (agent.templateId !== req.templateId)
        throw invalidArgument("template_id", `instance ${req.instanceId} is not an agent of ${req.templateId}`);
      // Lineage learns an agent's inbox from the claims feed; without it nobody's signature can be checked.
      if (!agent.inboxId) throw permissionDenied(`the inbox of instance ${req.instanceId} is not known here`);
      if (agent.inboxId !== req.inboxId)
        throw permissionDenied(`inbox_id: not the inbox of instance ${req.instanceId}`);
      const verified = await deps.verifier.verify(
        "ReportVersionSignals",
        versionSignalsFields(report),
        req.agentSignature,
      );
      const replaced = await deps.em.fork().transactional(async (tx) => {
        if (!(await consumeNonce(tx, { nonce: verified.nonce, inboxId: req.inboxId, purpose: "ReportVersionSignals" })))
          throw nonceUsed("agent_signature.nonce");
        return upsertSignals(tx, { ...report, instanceId: req.instanceId });
      });
      deps.log.info("signals reported", {
        instanceId: req.instanceId,
        templateId: req.templateId,
        version: req.version,
        day: req.day,
        replaced,
      });
      return { replaced };
    },
  };
}
