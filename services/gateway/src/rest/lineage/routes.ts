// The REST paths of lineage (docs/rest.md, "Lineage"): an agent's lineage,
// a template's dashboard for its creator, an owner's agents with theirs.
// Each is a LineageService RPC of the forwarder, as on the Connect face; 503
// when the gateway has no lineage service.

import { toJson } from "@bufbuild/protobuf";
import { LineageNodeSchema, type LineageNode } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { AGENT_ERRORS } from "../core/errors.js";
import { PROTO_JSON } from "../core/json.js";
import { badRequest } from "../core/errors.js";
import {
  forwarderOf,
  nextCursor,
  query,
  queryBool,
  queryInt,
  queryPage,
  type Handler,
  type Route,
} from "../core/request.js";

/** A lineage node as proto JSON (an agent still live has no `ended_at`). */
const nodeToJson = (n: LineageNode) => toJson(LineageNodeSchema, n, PROTO_JSON);

/** An agent's lineage (its owner's or its template creator's session): `{instance, ancestors, children, descendants}`. */
const agentLineage: Handler = async (r, deps) => {
  const lineage = forwarderOf(deps, "lineage");
  query(r, []);
  const res = await lineage.getLineage({ instanceId: r.id }, r.call);
  if (!res.instance) throw new Error("lineage service answered without the instance");
  return {
    status: 200,
    body: {
      instance: nodeToJson(res.instance),
      ancestors: res.ancestors.map(nodeToJson),
      children: res.children.map(nodeToJson),
      descendants: res.descendants.map(nodeToJson),
    },
  };
};

/** The creator's dashboard of a template: counts, clones, depth, agents per owner, usage per day (`?days=`, 30 by default). */
const templateDashboard: Handler = async (r, deps) => {
  const lineage = forwarderOf(deps, "lineage");
  const q = query(r, ["days"]);
  const d = await lineage.getTemplateDashboard({ templateId: r.id, days: queryInt(q, "days") }, r.call);
  return {
    status: 200,
    body: {
      template_id: d.templateId,
      live_count: Number(d.liveCount),
      total_count: Number(d.totalCount),
      ended_count: Number(d.endedCount),
      clone_count: Number(d.cloneCount),
      live_clone_count: Number(d.liveCloneCount),
      max_depth: d.maxDepth,
      owners: d.owners.map((o) => ({ owner_id: o.ownerId, live: Number(o.live), total: Number(o.total) })),
      usage: d.usage.map((u) => ({ day: u.day, claims: Number(u.claims), active_agents: Number(u.activeAgents) })),
    },
  };
};

/** An owner's agents with their lineage: `?owner=<inbox>&ended=true&limit=&cursor=`, the owner's session. */
const ownerLineage: Handler = async (r, deps) => {
  const lineage = forwarderOf(deps, "lineage");
  const q = query(r, ["owner", "ended", "limit", "cursor"]);
  const owner = q.get("owner");
  if (!owner) throw badRequest("owner", "is required: the XMTP inbox ID whose agents to list (your own)");
  const res = await lineage.listOwnerLineage(
    {
      ownerId: owner,
      includeEnded: queryBool(q, "ended"),
      ...queryPage(q),
    },
    r.call,
  );
  return {
    status: 200,
    body: { agents: res.agents.map(nodeToJson), next_cursor: nextCursor(res.nextPageToken) },
  };
};

export const LINEAGE_ROUTES: Route[] = [
  ["GET", "/agents/:id/lineage", agentLineage, AGENT_ERRORS],
  ["GET", "/templates/:id/dashboard", templateDashboard, AGENT_ERRORS],
  ["GET", "/lineage", ownerLineage, AGENT_ERRORS],
];
