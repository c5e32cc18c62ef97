/**
 * TEST HELPER. The REST names of the enums the routes take, from the kit's
 * name lists (the names REST parses), by the enum's full name: what the
 * contract tests send for an RPC's enum value on the REST face.
 */
import { ConversationTools } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  APPROVAL_PLACE_NAMES,
  GRANT_NAMES,
  OUTSIDER_REPLY_NAMES,
  PARTICIPATION_MODE_NAMES,
  TRUST_LEVEL_NAMES,
  parseApprovalPlace,
  parseGrant,
  parseOutsiderReply,
  parseParticipationMode,
  parseTrustLevel,
} from "@convos-pool/kit/content";
import { CONVERSATION_TOOLS_NAMES } from "../src/rest/agents/json.js";
import { DECISION_WORDS } from "../src/rest/patterns/routes.js";
import { ACTION_NAMES } from "../src/rest/rollouts/json.js";
import { SORTS } from "../src/rest/templates/listing.js";
import type { EnumNames } from "./faces.js";

function namesOf(
  names: readonly string[],
  parse: (name: string) => number | undefined,
): (n: number) => string | undefined {
  return (n) => names.find((name) => parse(name) === n);
}

export const ENUM_NAMES: EnumNames = {
  "convos.pool.v1.TrustLevel": namesOf(TRUST_LEVEL_NAMES, parseTrustLevel),
  "convos.pool.v1.Grant": namesOf(GRANT_NAMES, parseGrant),
  "convos.pool.v1.OutsiderReply": namesOf(OUTSIDER_REPLY_NAMES, parseOutsiderReply),
  "convos.pool.v1.ApprovalPlace": namesOf(APPROVAL_PLACE_NAMES, parseApprovalPlace),
  "convos.pool.v1.ParticipationMode": namesOf(PARTICIPATION_MODE_NAMES, parseParticipationMode),
  "convos.pool.v1.ConversationTools": namesOf(CONVERSATION_TOOLS_NAMES, (name) =>
    name === "none" ? ConversationTools.NONE : ConversationTools.SHARED,
  ),
  // REST's words for 0 ("unspecified", "waiting") are no value a request takes.
  "convos.pool.v1.RolloutAction": (n) => (n === 0 ? undefined : ACTION_NAMES[n as keyof typeof ACTION_NAMES]),
  "convos.pool.v1.PatternDecision": (n) => (n === 0 ? undefined : DECISION_WORDS[n as keyof typeof DECISION_WORDS]),
  "convos.pool.v1.StoreSort": (n) => [...SORTS].find(([, sort]) => Number(sort) === n)?.[0],
  "convos.pool.v1.Visibility": (n) => ({ [Visibility.PUBLIC]: "public", [Visibility.PRIVATE]: "private" })[n],
};
