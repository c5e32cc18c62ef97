// The REST paths of docs/rest.md, one folder per area (templates/, claims/,
// agents/, ...), each with its routes and its JSON, over core/ (the request,
// the errors, the JSON helpers, the dispatcher), which imports no area.
// Each handler turns a request into an RPC of the same forwarder the Connect
// face uses (so authorization is the same), and the answer into JSON; the
// route table names, beside each handler, how its RPC errors read on REST,
// and the dispatcher applies that mapping to whatever the handler throws.

import type { ServerRequest, ServerResponse } from "@convos-pool/kit/server";
import { ADDRESS_BOOK_ROUTES } from "./address-book/routes.js";
import { AGENT_ROUTES } from "./agents/routes.js";
import { APPROVAL_ROUTES } from "./approvals/routes.js";
import { CLAIM_ROUTES } from "./claims/routes.js";
import { serveRoutes } from "./core/dispatch.js";
import { BASE, type RestDeps, type Route } from "./core/request.js";
import { CURATION_ROUTES } from "./curation/routes.js";
import { LINEAGE_ROUTES } from "./lineage/routes.js";
import { MEMORY_ROUTES } from "./memory/routes.js";
import { PATTERN_ROUTES } from "./patterns/routes.js";
import { RATING_ROUTES } from "./ratings/routes.js";
import { ROLLOUT_ROUTES } from "./rollouts/routes.js";
import { SCHEDULE_ROUTES } from "./schedules/routes.js";
import { SESSION_ROUTES } from "./sessions/routes.js";
import { SIGNAL_ROUTES } from "./signals/routes.js";
import { TEMPLATE_ROUTES } from "./templates/routes.js";

/** The route table: each route with its handler and error mapping (the contract test runs the handlers in memory). */
export const ROUTES: readonly Route[] = [
  ...SESSION_ROUTES,
  ...TEMPLATE_ROUTES,
  ...ROLLOUT_ROUTES,
  ...AGENT_ROUTES,
  ...CLAIM_ROUTES,
  ...LINEAGE_ROUTES,
  ...CURATION_ROUTES,
  ...RATING_ROUTES,
  ...MEMORY_ROUTES,
  ...ADDRESS_BOOK_ROUTES,
  ...APPROVAL_ROUTES,
  ...SCHEDULE_ROUTES,
  ...PATTERN_ROUTES,
  ...SIGNAL_ROUTES,
];

/** Every REST route, method and full path pattern (`:id`, `:rollout_id` for the path parameters): what the fuzz tests drive. */
export const REST_ROUTES: ReadonlyArray<readonly [method: string, pattern: string]> = ROUTES.map(
  ([method, pattern]) => [method, `${BASE}${pattern}`] as const,
);

/** The server kit's `fallback`: answers every path under /api/pool/, leaves others alone. */
export const restApi = (deps: RestDeps): ((req: ServerRequest, res: ServerResponse) => Promise<boolean>) =>
  serveRoutes(ROUTES, deps);
