// The REST path of version signals (docs/rest.md, "Version signals";
// docs/signals.md): a template's versions side by side, for its creator and
// for owners of its live agents. One RPC of the VersionSignalInsightsService
// forwarder, as on the Connect face, so who may read it is decided there.

import { toJson } from "@bufbuild/protobuf";
import { CompareVersionsResponseSchema } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { PROTO_JSON } from "../core/json.js";
import { TEMPLATE_ERRORS } from "../core/errors.js";
import { forwarderOf, query, type Handler, type Route } from "../core/request.js";

type Json = Record<string, unknown>;
/** A message left unset is `null`, so that every key is always there (the rest of the REST API's habit). */
const withNulls = (o: Json, keys: readonly string[]): Json =>
  Object.fromEntries([...Object.entries(o), ...keys.filter((k) => !(k in o)).map((k): [string, unknown] => [k, null])]);

function comparisonToJson(v: Json): Json {
  const days = (v.days as Json[] | undefined) ?? [];
  return withNulls({ ...v, days: days.map((d) => withNulls(d, ["per_100_answers"])) }, [
    "per_100_answers",
    "lifecycle",
  ]);
}

/**
 * Versions side by side: `?versions=6,7&from_day=&to_day=` (all optional;
 * no versions: the two newest that reported). Proto JSON in snake_case;
 * `per_100_answers` and `lifecycle` are `null` when not shown or not recorded.
 */
const compareVersions: Handler = async (r, deps) => {
  const signals = forwarderOf(deps, "signals");
  const q = query(r, ["versions", "from_day", "to_day"]);
  const versions = (q.get("versions") ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
  const res = await signals.compareVersions(
    { templateId: r.id, versions, fromDay: q.get("from_day") ?? "", toDay: q.get("to_day") ?? "" },
    r.call,
  );
  const json = toJson(CompareVersionsResponseSchema, res, PROTO_JSON) as Json;
  return {
    status: 200,
    body: {
      versions: ((json.versions as Json[] | undefined) ?? []).map(comparisonToJson),
      own_versions: ((json.own_versions as Json[] | undefined) ?? []).map(comparisonToJson),
      min_conversations: json.min_conversations,
    },
  };
};

export const SIGNAL_ROUTES: Route[] = [["GET", "/templates/:id/signals", compareVersions, TEMPLATE_ERRORS]];
