// The REST paths of a template's staged rollouts (docs/rest.md, "Rollouts";
// docs/rollouts.md): list, read, start, and the creator's signed steps. Each
// is a RolloutService RPC of the forwarder, as on the Connect face; its
// errors name the body's fields (ROLLOUT_ERRORS).

import {
  BASE,
  etag,
  nextCursor,
  query,
  queryPage,
  type Handler,
  type RestRequest,
  type Route,
} from "../core/request.js";
import { startRolloutViolations, stepRolloutViolations } from "@convos-pool/kit/content";
import { Violations } from "../core/errors.js";
import {
  ROLLOUT_ERRORS,
  START_FIELDS,
  START_NAMES,
  STEP_FIELDS,
  STEP_NAMES,
  rolloutToJson,
  startFromBody,
  stepFromBody,
} from "./json.js";
import { templateToJson } from "../templates/json.js";

const rolloutIdOf = (r: RestRequest) => r.params.rollout_id ?? "";

const rolloutPath = (templateId: string, rolloutId: string) =>
  `${BASE}/templates/${encodeURIComponent(templateId)}/rollouts/${encodeURIComponent(rolloutId)}`;

function answered<T>(v: T | undefined): T {
  if (!v) throw new Error("templates service answered without a rollout");
  return v;
}

const listRollouts: Handler = async (r, { rollouts }) => {
  const q = query(r, ["limit", "cursor"]);
  const res = await rollouts.listRollouts({ templateId: r.id, ...queryPage(q) }, r.call);
  return {
    status: 200,
    body: { rollouts: res.rollouts.map(rolloutToJson), next_cursor: nextCursor(res.nextPageToken) },
  };
};

const getRollout: Handler = async (r, { rollouts }) => {
  query(r, []);
  const res = await rollouts.getRollout({ templateId: r.id, rolloutId: rolloutIdOf(r) }, r.call);
  return { status: 200, body: rolloutToJson(answered(res.rollout)) };
};

/** 201 `{rollout, template}`: the template at its new version (ETag), the rollout at Location. */
const startRollout: Handler = async (r, { rollouts }) => {
  query(r, []);
  const body = await r.body(START_FIELDS);
  const check = new Violations();
  const req = startFromBody(r.id, body, check);
  check.doneWith(
    START_NAMES,
    () => startRolloutViolations(req),
    (f) => body.has(f),
  );
  const res = await rollouts.startRollout(req, r.call);
  const rollout = answered(res.rollout);
  const template = answered(res.template);
  return {
    status: 201,
    body: { rollout: rolloutToJson(rollout), template: templateToJson(template) },
    headers: { location: rolloutPath(template.id, rollout.rolloutId), etag: etag(template.version) },
  };
};

const stepRollout: Handler = async (r, { rollouts }) => {
  query(r, []);
  const body = await r.body(STEP_FIELDS);
  const check = new Violations();
  const req = stepFromBody(r.id, rolloutIdOf(r), body, check);
  check.doneWith(
    STEP_NAMES,
    () => stepRolloutViolations(req),
    (f) => body.has(f),
  );
  const res = await rollouts.stepRollout(req, r.call);
  return { status: 200, body: rolloutToJson(answered(res.rollout)) };
};

export const ROLLOUT_ROUTES: Route[] = [
  ["GET", "/templates/:id/rollouts", listRollouts, ROLLOUT_ERRORS],
  ["POST", "/templates/:id/rollouts", startRollout, START_NAMES],
  ["GET", "/templates/:id/rollouts/:rollout_id", getRollout, ROLLOUT_ERRORS],
  ["POST", "/templates/:id/rollouts/:rollout_id/steps", stepRollout, STEP_NAMES],
];
