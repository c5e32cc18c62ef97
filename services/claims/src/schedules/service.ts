/**
 * ScheduleService (people, through the gateway) and HostScheduleService (an
 * agent's host on behalf of a person it heard in a conversation):
 * schedule_service.proto, docs/schedules.md. Thin: who is asking is proven
 * here (the caller's inbox from the gateway, the host by its own credential
 * and the agent's placement), every decision is policy.ts's, the rows are
 * sql.ts's, and a new or resumed item's timer is set after its transaction
 * (timers.ts: never inside one).
 */
import { randomBytes } from "node:crypto";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { ScheduleOnBehalf } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
import type { HostScheduleService, ScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
import {
  type FieldViolationInfo,
  INBOX_ID_PATTERN,
  INSTANCE_ID_PATTERN,
  invalidArgument,
  notFound,
  permissionDenied,
  refuseViolations,
} from "@convos-pool/kit/content";
import { callerHost, callerInboxId, type Logger } from "@convos-pool/kit/server";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { ScheduleHosts } from "./hosts.js";
import {
  askViolations,
  changeRefusal,
  firstOccurrence,
  hostRefusal,
  type Item,
  pendingViolations,
  resumeAt,
  roleOf,
  sees,
  type Viewer,
} from "./policy.js";
import {
  type AgentPlace,
  agentPlace,
  deleteItem,
  inConversation,
  insertItem,
  listItems,
  lockAgent,
  lockItem,
  pendingCounts,
  setPause,
  setTime,
} from "./sql.js";
import { moveRefusal, moveViolations, planMove } from "./move.js";
import { askOf, itemMessage } from "./wire.js";

export interface ScheduleServiceDeps {
  em: EntityManager;
  hosts: ScheduleHosts;
  /** Sets an item's timer (timers.ts). */
  setTimer(itemId: string, at: number): Promise<void>;
  now(): number;
  log: Logger;
}

const ITEM_ID = /^sch_[0-9a-f]{24}$/;
const CONVERSATION_ID = /^[0-9A-Za-z_-]{1,128}$/;

type Change = "pause" | "resume" | "cancel";

/** Carries out one change the viewer may make; the item as it is after it (undefined: cancelled). */
async function change(
  deps: ScheduleServiceDeps,
  viewer: Viewer,
  instanceId: string,
  id: string,
  what: Change,
  /** A host speaks in one conversation: another's items are not found, the owner's call too. */
  within?: string,
) {
  if (!ITEM_ID.test(id)) throw invalidArgument("id", "a schedule item's id: sch_ and 24 hex characters");
  const now = deps.now();
  const result = await deps.em.fork().transactional(async (tx) => {
    const item = await lockItem(tx, id, instanceId);
    const outside = within !== undefined && item?.conversationId !== within;
    const refusal = item && !outside ? changeRefusal(viewer, item, what) : "not-found";
    if (!item || refusal === "not-found") throw notFound(`schedule item ${id}`);
    if (refusal === "denied")
      throw permissionDenied(
        what === "resume" && item.pause !== "asked"
          ? `${id} was paused by ${item.pause === "left" ? "the agent leaving its conversation" : `a ${item.pause === "released" ? "release" : "transfer"}`}: only the agent's owner may resume it`
          : `${id} was asked for by someone else: only they or the agent's owner may change it`,
      );
    if (what === "cancel") {
      await deleteItem(tx, id);
      return undefined;
    }
    if (what === "pause") {
      if (item.pause === null) await setPause(tx, id, "asked");
      return { ...item, pause: item.pause ?? "asked" } satisfies Item;
    }
    if (item.pause === null) return item;
    const next = resumeAt(item, now);
    if (next === null) throw new ConnectError(`id: ${id} has no occurrence left to resume`, Code.FailedPrecondition);
    await setPause(tx, id, null, next);
    return { ...item, pause: null, nextAt: next } satisfies Item;
  });
  if (result && result.pause === null && result.nextAt !== null) await deps.setTimer(result.id, result.nextAt);
  return result;
}

/**
 * Moves an item to a new local time (move.ts decides). The old time's job
 * stays in the queue and fires nothing: a firing is for the item's next
 * occurrence only (planFiring), and the row's is the new one.
 */
async function move(
  deps: ScheduleServiceDeps,
  viewer: Viewer,
  instanceId: string,
  id: string,
  time: string,
  date: string,
) {
  const now = deps.now();
  const result = await deps.em.fork().transactional(async (tx) => {
    const item = await lockItem(tx, id, instanceId);
    const refusal = item ? moveRefusal(viewer, item) : "not-found";
    if (!item || refusal === "not-found") throw notFound(`schedule item ${id}`);
    if (refusal === "denied") throw permissionDenied(`${id}: only the agent's owner may move an item`);
    const plan = planMove(item, { time, date }, now);
    if (plan.kind === "refuse") refuseViolations(plan.violations);
    if (plan.kind === "none-left")
      throw new ConnectError(`id: ${id} has no occurrence left to move`, Code.FailedPrecondition);
    if (plan.kind !== "move" || (plan.startsAt === item.startsAt && plan.nextAt === item.nextAt)) return item;
    await setTime(tx, id, plan.startsAt, plan.nextAt);
    return { ...item, startsAt: plan.startsAt, nextAt: plan.nextAt } satisfies Item;
  });
  if (result.pause === null && result.nextAt !== null) await deps.setTimer(result.id, result.nextAt);
  return result;
}

/** The owner by the service's record, or a member of `conversationId` as the agent reads its group. */
async function viewerOf(
  deps: ScheduleServiceDeps,
  place: AgentPlace,
  instanceId: string,
  caller: string,
  conversationId: string,
): Promise<Viewer | undefined> {
  if (place.ownerId === caller) return { role: "owner", inboxId: caller };
  if (conversationId === "" || place.hostLost) return undefined;
  if (!(await inConversation(deps.em.fork(), instanceId, conversationId))) return undefined;
  const member = await deps.hosts.checkMember(place.hostUrl, instanceId, conversationId, caller).catch((err) => {
    deps.log.warn("schedules: the agent did not say who is a member", { instanceId, err });
    throw new ConnectError("the agent does not answer just now; try again", Code.Unavailable);
  });
  return member ? { role: "member", inboxId: caller, conversationId } : undefined;
}

export function createScheduleService(deps: ScheduleServiceDeps): ServiceImpl<typeof ScheduleService> {
  /** The agent and who the caller is to it; anyone else (and a missing agent) is NOT_FOUND. */
  const proven = async (instanceId: string, ctx: HandlerContext, conversationId: string) => {
    const caller = callerInboxId(ctx);
    const place = INSTANCE_ID_PATTERN.test(instanceId) ? await agentPlace(deps.em.fork(), instanceId) : undefined;
    const live = place && (place.state === "claimed" || place.state === "crashed");
    const viewer = caller && live ? await viewerOf(deps, place, instanceId, caller, conversationId) : undefined;
    if (!viewer) throw notFound(`instance ${instanceId}`);
    return viewer;
  };
  /** A change by id: a member is proven against the item's own conversation. */
  const changeBy = async (instanceId: string, id: string, ctx: HandlerContext, what: Change) => {
    if (!ITEM_ID.test(id)) throw invalidArgument("id", "a schedule item's id: sch_ and 24 hex characters");
    const item = await lockItem(deps.em.fork(), id, instanceId);
    const viewer = await proven(instanceId, ctx, item?.conversationId ?? "");
    return change(deps, viewer, instanceId, id, what);
  };
  return {
    async listSchedules(req, ctx) {
      const caller = callerInboxId(ctx);
      const place = INSTANCE_ID_PATTERN.test(req.instanceId)
        ? await agentPlace(deps.em.fork(), req.instanceId)
        : undefined;
      if (caller && place && place.ownerId !== caller && req.conversationId === "")
        throw invalidArgument("conversation_id", "required of a member: the conversation whose items to list");
      const viewer = await proven(req.instanceId, ctx, req.conversationId);
      const narrow = req.conversationId === "" ? undefined : req.conversationId;
      const items = await listItems(deps.em, req.instanceId, narrow);
      const agentInbox = place?.inboxId ?? "";
      return { items: items.filter((i) => sees(viewer, i)).map((i) => itemMessage(i, agentInbox)) };
    },
    async pauseSchedule(req, ctx) {
      const item = await changeBy(req.instanceId, req.id, ctx, "pause");
      return { item: item && itemMessage(item) };
    },
    async resumeSchedule(req, ctx) {
      const item = await changeBy(req.instanceId, req.id, ctx, "resume");
      return { item: item && itemMessage(item) };
    },
    async cancelSchedule(req, ctx) {
      await changeBy(req.instanceId, req.id, ctx, "cancel");
      return {};
    },
    async moveSchedule(req, ctx) {
      const idFault = ITEM_ID.test(req.id)
        ? []
        : [{ field: "id", description: "a schedule item's id: sch_ and 24 hex characters" }];
      refuseViolations([...idFault, ...moveViolations({ time: req.time, date: req.date })]);
      const item = await lockItem(deps.em.fork(), req.id, req.instanceId);
      const viewer = await proven(req.instanceId, ctx, item?.conversationId ?? "");
      const moved = await move(deps, viewer, req.instanceId, req.id, req.time, req.date);
      const place = await agentPlace(deps.em.fork(), req.instanceId);
      return { item: itemMessage(moved, place?.inboxId) };
    },
  };
}

function onBehalfViolations(on: ScheduleOnBehalf | undefined): FieldViolationInfo[] {
  const out: FieldViolationInfo[] = [];
  if (!INSTANCE_ID_PATTERN.test(on?.instanceId ?? ""))
    out.push({ field: "on_behalf.instance_id", description: "an agent's id: inst_ and 16 letters or digits" });
  if (!CONVERSATION_ID.test(on?.conversationId ?? ""))
    out.push({ field: "on_behalf.conversation_id", description: "required: the conversation the person spoke in" });
  if (!INBOX_ID_PATTERN.test(on?.inboxId ?? ""))
    out.push({ field: "on_behalf.inbox_id", description: "the person's XMTP inbox id: 64 lower-case hex characters" });
  return out;
}

export function createHostScheduleService(deps: ScheduleServiceDeps): ServiceImpl<typeof HostScheduleService> {
  /** The host proven to run the agent, and the person it speaks for in that conversation. */
  const speaking = async (on: ScheduleOnBehalf | undefined, ctx: HandlerContext, more: FieldViolationInfo[] = []) => {
    refuseViolations([...onBehalfViolations(on), ...more]);
    const { instanceId, conversationId, inboxId } = on as ScheduleOnBehalf;
    const em = deps.em.fork();
    const place = await agentPlace(em, instanceId);
    const host = callerHost(ctx);
    const refusal = hostRefusal(place, host);
    if (refusal === "shared-credential")
      throw permissionDenied(
        "schedules are asked for by the host that runs the agent, under that host's own credential",
      );
    if (refusal === "not-found") throw notFound(`instance ${instanceId}`);
    if (refusal === "elsewhere") throw permissionDenied(`on_behalf.instance_id: ${instanceId} runs on another host`);
    if (refusal === "not-claimed" || !place)
      throw new ConnectError(`${instanceId} is not claimed: nothing is scheduled for it`, Code.FailedPrecondition);
    if (!(await inConversation(em, instanceId, conversationId)))
      throw invalidArgument("on_behalf.conversation_id", "the agent is not in this conversation");
    const role = roleOf(inboxId, place.ownerId);
    const viewer: Viewer = role === "owner" ? { role, inboxId } : { role: "member", inboxId, conversationId };
    return { instanceId, conversationId, inboxId, role, viewer, agentInbox: place.inboxId };
  };
  return {
    async createSchedule(req, ctx) {
      const now = deps.now();
      const ask = askOf(req.spec);
      const asker = await speaking(req.onBehalf, ctx);
      refuseViolations(askViolations(ask, asker.role, now));
      const startsAt = ask.startsAt as number;
      const item: Item = {
        id: `sch_${randomBytes(12).toString("hex")}`,
        instanceId: asker.instanceId,
        conversationId: asker.conversationId,
        askedBy: asker.inboxId,
        askedByRole: asker.role,
        kind: ask.kind ?? "reminder",
        text: ask.text.trim(),
        startsAt,
        rrule: ask.rrule.trim(),
        timeZone: ask.timeZone.trim(),
        nextAt: firstOccurrence({ startsAt, rrule: ask.rrule, timeZone: ask.timeZone }, now),
        pause: null,
        payload: ask.payload,
        createdAt: now,
      };
      await deps.em.fork().transactional(async (tx) => {
        await lockAgent(tx, item.instanceId);
        refuseViolations(
          pendingViolations(await pendingCounts(tx, item.instanceId, item.conversationId, item.askedBy)),
        );
        await insertItem(tx, item);
      });
      if (item.nextAt !== null) await deps.setTimer(item.id, item.nextAt);
      deps.log.info("schedule item made", { itemId: item.id, instanceId: item.instanceId, kind: item.kind });
      return { item: itemMessage(item) };
    },
    async listSchedules(req, ctx) {
      const asker = await speaking(req.onBehalf, ctx);
      const items = await listItems(deps.em, asker.instanceId, asker.conversationId);
      return { items: items.map((i) => itemMessage(i, asker.agentInbox)) };
    },
    async pauseSchedule(req, ctx) {
      const asker = await speaking(req.onBehalf, ctx);
      const item = await change(deps, asker.viewer, asker.instanceId, req.id, "pause", asker.conversationId);
      return { item: item && itemMessage(item) };
    },
    async resumeSchedule(req, ctx) {
      const asker = await speaking(req.onBehalf, ctx);
      const item = await change(deps, asker.viewer, asker.instanceId, req.id, "resume", asker.conversationId);
      return { item: item && itemMessage(item) };
    },
    async cancelSchedule(req, ctx) {
      const asker = await speaking(req.onBehalf, ctx);
      await change(deps, asker.viewer, asker.instanceId, req.id, "cancel", asker.conversationId);
      return {};
    },
  };
}
