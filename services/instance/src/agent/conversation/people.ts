// Who is who in the conversation, from the members' Convos profiles (docs/trust.md,
// "Profiles and names"). Pure: the conversation hands it what a message
// announced (platform/xmtp.ts `profilesIn`: only its sender's own profile)
// and saves state.json when it says something changed.
//
// - A profile is its sender's whole profile: its name replaces the one
//   before (none clears it), and the agent kind it declares, or does not,
//   is what the sender is from then on: a member who was an agent and sends
//   a profile without the kind is a person again.
// - Names are kept cleaned (kit `cleanDisplayName`) and shown through
//   `shownNames`: a name that looks like the owner's or the agent's own
//   (case and confusable letters aside) is not shown for anyone else, who is
//   then "member <short inbox id>" (policy.ts `senderName`).

import { cleanDisplayName, namesLookAlike } from "@convos-pool/kit/content";
import type { MemberProfileInfo } from "../../platform/xmtp.js";

/** Applies profiles to who is who; whether anything changed. Its own profile (`self`) is not taken: it knows what it is. */
export function applyProfiles(
  convo: { names: Record<string, string>; agents: string[] },
  profiles: readonly MemberProfileInfo[],
  self: string,
): boolean {
  let changed = false;
  for (const p of profiles) {
    if (p.inboxId === self) continue;
    const name = cleanDisplayName(p.name ?? "");
    if (name && convo.names[p.inboxId] !== name) {
      convo.names[p.inboxId] = name;
      changed = true;
    } else if (!name && convo.names[p.inboxId] !== undefined) {
      delete convo.names[p.inboxId];
      changed = true;
    }
    const known = convo.agents.includes(p.inboxId);
    if (p.agent && !known) convo.agents.push(p.inboxId);
    else if (!p.agent && known) convo.agents.splice(convo.agents.indexOf(p.inboxId), 1);
    changed ||= p.agent !== known;
  }
  return changed;
}

/**
 * The names it shows, by inbox id: each cleaned (a state.json of before
 * may hold one that is not), less anyone's but the owner's that looks like
 * the owner's name, and anyone's that looks like the agent's own name.
 */
export function shownNames(
  names: Readonly<Record<string, string>>,
  who: { ownerId: string | undefined; agentName: string },
): Record<string, string> {
  const owner = who.ownerId ? cleanDisplayName(names[who.ownerId] ?? "") : "";
  const shown: Record<string, string> = {};
  for (const [inboxId, raw] of Object.entries(names)) {
    const name = cleanDisplayName(raw);
    if (!name || namesLookAlike(name, who.agentName)) continue;
    if (inboxId !== who.ownerId && owner && namesLookAlike(name, owner)) continue;
    shown[inboxId] = name;
  }
  return shown;
}
