// InstanceScheduleService: the host's side of schedules (docs/schedules.md),
// called by the claims service alone (HOST_ACCESS), each call for the agent
// its `x-pool-instance` header names. A firing wakes a dormant agent and is
// carried out by it (tools/schedules/firing-run.ts); a member check reads the
// group as the agent sees it now.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { invalidArgument } from "@convos-pool/kit/content";
import type { InstanceScheduleService } from "@convos-pool/gen/convos/pool/v1/instance_schedule_service_pb.js";
import { ScheduleKind } from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import type { Agent } from "../agent/face/agent.js";
import type { Firing } from "../tools/schedules/firing.js";

const KINDS: Partial<Record<ScheduleKind, Firing["item"]["kind"]>> = {
  [ScheduleKind.REMINDER]: "reminder",
  [ScheduleKind.ROUTINE]: "routine",
  [ScheduleKind.ACT]: "act",
};

export function createInstanceScheduleService(
  pick: (ctx: HandlerContext) => Agent,
): ServiceImpl<typeof InstanceScheduleService> {
  return {
    async fireSchedule(req, ctx) {
      const agent = pick(ctx);
      const item = req.item;
      if (!req.firingId) throw invalidArgument("firing_id", "required");
      if (!item) throw invalidArgument("item", "required");
      const kind = KINDS[item.kind];
      if (!kind) throw invalidArgument("item.kind", "a reminder, a routine or an act");
      if (item.instanceId !== agent.id)
        throw invalidArgument("item.instance_id", `not ${agent.id}, this call's instance`);
      const alreadyDone = await agent.fireSchedule({
        firingId: req.firingId,
        item: {
          id: item.id,
          kind,
          text: item.text,
          conversationId: item.conversationId,
          askedBy: item.askedByInboxId,
        },
      });
      return { alreadyDone };
    },
    async checkMember(req, ctx) {
      if (!req.conversationId) throw invalidArgument("conversation_id", "required");
      if (!req.inboxId) throw invalidArgument("inbox_id", "required");
      return { member: await pick(ctx).isMember(req.conversationId, req.inboxId) };
    },
  };
}
