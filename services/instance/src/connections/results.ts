// What a phone's answer to an invocation means, and what the agent does next
// (every status the Convos CLI's SKILL.md lists, "Discovering Enabled
// Capabilities"): the words the model is given, whether the person is told
// once in the conversation how to turn the capability on, and whether the
// agent stops asking their phone until it hears from that kind again.

import type { ArgumentValue, ConnectionCapability } from "@convos-pool/convos";

/** Each kind as Convos' settings name it. */
const KIND_NAMES: Readonly<Record<string, string>> = {
  health: "Health",
  calendar: "Calendar",
  contacts: "Contacts",
  location: "Location",
  photos: "Photos",
  music: "Music",
  home_kit: "Home",
  screen_time: "Screen Time",
  motion: "Motion",
};
const CAPABILITY_NAMES: Readonly<Record<ConnectionCapability, string>> = {
  read: "Read",
  write_create: "Create",
  write_update: "Update",
  write_delete: "Delete",
};

export const kindName = (kind: string) => KIND_NAMES[kind] ?? kind;
export const capabilityName = (c: ConnectionCapability) => CAPABILITY_NAMES[c];

/** What the agent does with a phone's answer. */
export interface AfterResult {
  /** For the model: what happened, in words it can act on. */
  result: string;
  ok: boolean;
  /** Said once in the conversation, by the pool's code (not the model): how to turn the capability on. */
  tell?: string;
  /** Stop asking this person's phone for this capability until their phone shares this kind again. */
  backOff?: boolean;
  /** The person must confirm on their phone: asked once more later. */
  retryLater?: boolean;
}

export function afterResult(
  /** `status` an InvocationStatus, or whatever a newer phone may say. */
  r: { status: string; errorMessage?: string | undefined; result?: Record<string, ArgumentValue> },
  ask: { kind: string; action: string; capability: ConnectionCapability; person: string },
): AfterResult {
  const where = `${kindName(ask.kind)} → ${capabilityName(ask.capability)}`;
  switch (r.status) {
    case "success": {
      const outputs = Object.entries(r.result ?? {})
        .map(([k, v]) => `${k}: ${typeof v.value === "string" ? v.value : JSON.stringify(v.value)}`)
        .join(", ");
      return { ok: true, result: `done on ${ask.person}'s phone${outputs ? ` (${outputs})` : ""}` };
    }
    case "capability_not_enabled":
    case "capability_revoked":
      return {
        ok: false,
        result: `not done: ${ask.person} has not turned on ${where} for this conversation; they were told how, and I do not ask their phone again until they do`,
        tell: `${ask.person}, to do that I need ${where} turned on for this conversation in Convos (its Connections settings). I won't ask your phone again until you do.`,
        backOff: true,
      };
    case "unknown_action":
      return {
        ok: false,
        result: `not done: ${ask.person}'s Convos cannot ${ask.action.replaceAll("_", " ")}; do not ask them about it`,
        backOff: true,
      };
    case "authorization_denied":
      return {
        ok: false,
        result: `not done: ${ask.person}'s phone does not let Convos use ${kindName(ask.kind)}; trying again will not help`,
        tell: `${ask.person}, your phone's settings don't let Convos use ${kindName(ask.kind)}. Allow it in Settings → Privacy → ${kindName(ask.kind)} and ask me again.`,
        backOff: true,
      };
    case "requires_confirmation":
      return {
        ok: false,
        result: `waiting: ${ask.person} must confirm it in Convos on their phone; I will ask once more in a minute`,
        tell: `${ask.person}, your phone wants you to confirm this in Convos. Open Convos and I'll try again in a minute.`,
        retryLater: true,
      };
    case "execution_failed":
      return {
        ok: false,
        result: `not done: ${ask.person}'s phone could not do it${r.errorMessage ? `: ${r.errorMessage.slice(0, 300)}` : ""}; do not try again`,
      };
    default:
      return { ok: false, result: `not done: ${ask.person}'s phone answered "${String(r.status).slice(0, 40)}"` };
  }
}
