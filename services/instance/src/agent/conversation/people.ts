// Who is who in the conversation, from the members' Convos profiles (docs/trust.md,
// "Profiles and names"). Pure: the conversation hands it what a message
// announced (platform/xmtp.ts `profilesIn`: its sender's own profile, and
// the others of a snapshot the conversation's creator sent) and saves
// state.json when it says something changed.
//
// - A profile of one's own is the sender's whole profile: its name replaces
//   the one before (none clears it), and the agent kind it declares, or does
//   not, is what the sender is from then on: a member who was an agent and
//   sends a profile without the kind is a person again.
// - The creator's snapshot speaks, as the Convos apps read it, only for a
//   member who never sent a profile of their own (`profiled`): it names a
//   person who joined before the agent. It never takes a name away, and
//   never makes the owner an agent.
// - Names are kept cleaned (kit `cleanDisplayName`) and shown through
//   `shownNames`: a name that looks like the owner's or the agent's own
//   (case and confusable letters aside) is not shown for anyone else, who is
//   then "member <short inbox id>" (policy.ts `senderName`).

import { cleanDisplayName, namesLookAlike } from "@convos-pool/kit/content";
import type { MemberProfileInfo } from "../../platform/xmtp.js";

/** Who is who in a conversation: names and agents by inbox id, and who has said their own profile. */
export interface KnownPeople {
  names: Record<string, string>;
  agents: string[];
  /** Members who sent a profile of their own: the creator's snapshot no longer speaks for them. */
  profiled: string[];
}

/**
 * Applies profiles to who is who; whether anything changed. Its own profile
 * (`self`) is not taken: it knows what it is. `ownerId`: whom a vouched
 * profile never makes an agent.
 */
export function applyProfiles(
  convo: KnownPeople,
  profiles: readonly MemberProfileInfo[],
  self: string,
  ownerId?: string,
): boolean {
  let changed = false;
  for (const p of profiles) {
    if (p.inboxId === self) continue;
    if (p.vouched && convo.profiled.includes(p.inboxId)) continue;
    if (!p.vouched && !convo.profiled.includes(p.inboxId)) {
      convo.profiled.push(p.inboxId);
      changed = true;
    }
    const name = cleanDisplayName(p.name ?? "");
    if (name && convo.names[p.inboxId] !== name) {
      convo.names[p.inboxId] = name;
      changed = true;
    } else if (!name && !p.vouched && convo.names[p.inboxId] !== undefined) {
      delete convo.names[p.inboxId];
      changed = true;
    }
    const agent = p.agent && !(p.vouched && p.inboxId === ownerId);
    const known = convo.agents.includes(p.inboxId);
    if (agent && !known) convo.agents.push(p.inboxId);
    else if (!agent && known) convo.agents.splice(convo.agents.indexOf(p.inboxId), 1);
    changed ||= agent !== known;
  }
  return changed;
}

/**
 * Who sent a profile of their own, for a state.json written before it was
 * kept: every name and agent it knew came from their own profile then.
 */
export function profiledBefore(saved: { names: Record<string, string>; agents: readonly string[] }): string[] {
  return [...new Set([...Object.keys(saved.names), ...saved.agents])];
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
