// What the pool records of each version's agents (docs/signals.md, "What the
// pool records of a version"), from the claims feed only: nothing here comes
// from an agent's word. Per version of a template:
//
// - `claimed`: agents claimed on that version (the version their claim
//   event named; agents claimed before the feed carried versions count
//   nowhere);
// - `removedWithin1Day`, `removedWithin7Days`: of those, removed by their
//   owner within 24 hours, and within 7 days, of their claim (the second
//   includes the first). Agents the pool lost are not counted: a lost host
//   says nothing of the version;
// - `clones`: clones made from an agent of the template while it ran that
//   version (its history's stretch at the clone's claim), whatever version
//   the clone was claimed on.
//
// The creator's own agents (owned by the creator now; a clone by its
// parent's owner) are counted apart and never with the others'. Below
// MIN_CONVERSATIONS conversations of claimed agents (the union of the
// conversations they were ever in, each once) only `claimed` is given, as
// for the day's figures. The pure part is `lifecycles`; `versionLifecycles` reads
// the rows and calls it.
import type { EntityManager } from "@mikro-orm/postgresql";
import { MIN_CONVERSATIONS, conversationsOf } from "./figures.js";

/** The end_reason the claims service records when an owner removes their agent (claims' removal query). */
export const REMOVED_BY_OWNER = "removed by its owner";

const DAY_MS = 86_400_000;

/** An agent claimed on a known version. */
export interface LifecycleAgent {
  ownerId: string;
  /** Its home conversation, from the claims feed; empty: counted as one of its own. */
  conversationId: string;
  /** Every conversation it was in, from the claims feed; absent or empty: its home alone. */
  conversationIds?: readonly string[] | undefined;
  /** The version it was claimed on. */
  version: string;
  claimedAt: Date;
  /** When its owner removed it; absent while it lives, or when it ended otherwise. */
  removedAt?: Date | undefined;
}

/** A clone, counted for the version its parent ran when the clone was claimed. */
export interface LifecycleClone {
  parentOwnerId: string;
  parentVersion: string;
}

export interface Lifecycle {
  version: string;
  claimed: number;
  /** At least `min` claimed: the other counts are given. */
  shown: boolean;
  removedWithin1Day: number;
  removedWithin7Days: number;
  clones: number;
}

export interface Lifecycles {
  /** Other people's agents, in the order of the versions asked. */
  versions: Lifecycle[];
  /** The creator's own, apart, in the same order. */
  ownVersions: Lifecycle[];
}

/** Each of `versions`' lifecycle, others' and the creator's apart. Pure. */
export function lifecycles(
  agents: readonly LifecycleAgent[],
  clones: readonly LifecycleClone[],
  versions: readonly string[],
  creatorId: string,
  min = MIN_CONVERSATIONS,
): Lifecycles {
  const side = (own: boolean): Lifecycle[] =>
    versions.map((version) =>
      lifecycleOf(
        version,
        agents.filter((a) => a.version === version && (a.ownerId === creatorId) === own),
        clones.filter((c) => c.parentVersion === version && (c.parentOwnerId === creatorId) === own).length,
        min,
      ),
    );
  return { versions: side(false), ownVersions: side(true) };
}

function lifecycleOf(version: string, agents: readonly LifecycleAgent[], clones: number, min: number): Lifecycle {
  const claimed = agents.length;
  // The threshold counts conversations, as the day's figures do: several agents in one conversation are one,
  // one agent in several is several.
  const conversations = new Set(agents.flatMap((a, i) => conversationsOf(a, `agent:${i}`))).size;
  if (conversations < min)
    return { version, claimed, shown: false, removedWithin1Day: 0, removedWithin7Days: 0, clones: 0 };
  const removedWithin = (ms: number) =>
    agents.filter((a) => a.removedAt && a.removedAt.getTime() - a.claimedAt.getTime() <= ms).length;
  return {
    version,
    claimed,
    shown: true,
    removedWithin1Day: removedWithin(DAY_MS),
    removedWithin7Days: removedWithin(7 * DAY_MS),
    clones,
  };
}

/**
 * The lifecycle of each of `versions` of `templateId` (lifecycles), read
 * from what the claims feed recorded; `creatorId` is the template's creator.
 */
export async function versionLifecycles(
  em: EntityManager,
  templateId: string,
  versions: readonly string[],
  creatorId: string,
): Promise<Lifecycles> {
  if (versions.length === 0) return { versions: [], ownVersions: [] };
  const agents = await em.execute<
    {
      owner_id: string;
      conversation_id: string;
      conversation_ids: string[];
      claimed_version: string;
      claimed_at: Date;
      ended_at: Date | null;
      end_reason: string | null;
    }[]
  >(
    `select a.owner_id, a.conversation_id, a.claimed_version, a.claimed_at, a.ended_at, a.end_reason,
       array(select distinct k.conversation_id from lineage_agent_conversations k where k.instance_id = a.instance_id)
         as conversation_ids
     from lineage_agents a where a.template_id = ? and a.claimed_version in (?)`,
    [templateId, versions],
  );
  const clones = await em.execute<{ parent_owner_id: string; parent_version: string }[]>(
    `select p.owner_id as parent_owner_id, v.version as parent_version
     from lineage_agents c
       join lineage_agents p on p.instance_id = c.parent_instance_id
       join lineage_agent_versions v on v.instance_id = p.instance_id
         and v.from_at <= c.claimed_at and (v.to_at is null or v.to_at > c.claimed_at)
     where p.template_id = ? and v.version in (?)`,
    [templateId, versions],
  );
  return lifecycles(
    agents.map((a) => ({
      ownerId: a.owner_id,
      conversationId: a.conversation_id,
      conversationIds: a.conversation_ids,
      version: a.claimed_version,
      claimedAt: new Date(a.claimed_at),
      removedAt: a.ended_at && a.end_reason === REMOVED_BY_OWNER ? new Date(a.ended_at) : undefined,
    })),
    clones.map((c) => ({ parentOwnerId: c.parent_owner_id, parentVersion: c.parent_version })),
    versions,
    creatorId,
  );
}
