/**
 * Bringing instances into the pool: a row in `starting` (its wallet index
 * drawn from the sequence), then `idle` once its host started it and it
 * knows its XMTP inbox. Used by the pool manager.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { randomId } from "@convos-pool/kit/content";
import type { InstanceStateName } from "../db/entities.js";
import { shownConversationName } from "./policy.js";

export async function registerInstance(
  em: EntityManager,
  hostUrl: string,
  runtime: "pool" | "openclaw" = "pool",
): Promise<{ id: string; walletIndex: number }> {
  const rows = await em.execute<{ id: string; wallet_index: number }[]>(
    `insert into instances (id, state, host_url, runtime) values (?, 'starting', ?, ?) returning id, wallet_index`,
    [randomId("inst"), hostUrl, runtime],
  );
  const [r] = rows;
  if (!r) throw new Error("insert into instances returned no row");
  return { id: r.id, walletIndex: Number(r.wallet_index) };
}

interface RunResult {
  affectedRows?: number;
}

/** starting -> idle, with the inbox the host reported. */
export async function markIdle(em: EntityManager, id: string, inboxId: string): Promise<boolean> {
  const res = await em.execute<RunResult>(
    `update instances set state = 'idle', inbox_id = ?, updated_at = now() where id = ? and state = 'starting'`,
    [inboxId, id],
    "run",
  );
  return res.affectedRows === 1;
}

/** Moves an instance from one of `from` to `to` (health checks, replacement). */
export async function setState(
  em: EntityManager,
  id: string,
  from: InstanceStateName[],
  to: InstanceStateName,
): Promise<boolean> {
  const res = await em.execute<RunResult>(
    `update instances set state = ?, updated_at = now() where id = ? and state in (?)`,
    [to, id, from],
    "run",
  );
  return res.affectedRows === 1;
}

/**
 * Instances a host runs that our rows place elsewhere: a host that came back
 * on another address (`npm start` gives it a new port) brings its instances'
 * workspaces with it. Their rows follow the host, whatever their state but
 * dead. Returns the ids moved, with their state.
 */
export async function adoptInstances(
  em: EntityManager,
  hostUrl: string,
  ids: string[],
): Promise<{ id: string; state: InstanceStateName }[]> {
  if (ids.length === 0) return [];
  return em.execute<{ id: string; state: InstanceStateName }[]>(
    `update instances set host_url = ?, updated_at = now() where id in (?) and host_url <> ? and state <> 'dead' returning id, state`,
    [hostUrl, ids, hostUrl],
  );
}

/** Where each of `ids` the pool ever had a row for is recorded, and whether it is dead. */
export async function recordedHosts(
  em: EntityManager,
  ids: string[],
): Promise<Map<string, { hostUrl: string; dead: boolean }>> {
  if (ids.length === 0) return new Map();
  const rows = await em.execute<{ id: string; host_url: string; state: InstanceStateName }[]>(
    `select id, host_url, state from instances where id in (?)`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, { hostUrl: r.host_url, dead: r.state === "dead" }]));
}

/**
 * Rows whose host is none of `hostUrls`: an owner's agent is `crashed` (it
 * comes back if a host runs it again), anything else is `dead` (replaced).
 * `claiming` rows are left to the claim holding them and the stale-claim sweep.
 */
export async function orphanInstances(
  em: EntityManager,
  hostUrls: string[],
): Promise<{ id: string; state: InstanceStateName }[]> {
  return em.execute<{ id: string; state: InstanceStateName }[]>(
    `update instances set state = case when state = 'claimed' then 'crashed' else 'dead' end, updated_at = now()
     where host_url not in (?) and (state in ('idle', 'starting', 'claimed') or (state = 'crashed' and owner_id is null))
     returning id, state`,
    [hostUrls],
  );
}

/** Drains a host (true) or opens it again (false); every replica's next pass sees it. */
export async function setDraining(em: EntityManager, url: string, draining: boolean): Promise<void> {
  await em.execute(
    `insert into instance_hosts (url, draining) values (?, ?)
     on conflict (url) do update set draining = excluded.draining, updated_at = now()`,
    [url, draining],
  );
}

export interface HostSummary {
  url: string;
  draining: boolean;
  /** Lost for good (lost-hosts.ts). */
  lost: boolean;
  /** Live instances recorded on it by state (dead ones left out). */
  states: Record<string, number>;
}

/** Every host that has live instances or a drain setting: what the operator's `list` shows. */
export async function hostSummaries(em: EntityManager): Promise<HostSummary[]> {
  const rows = await em.execute<
    { url: string; draining: boolean | null; lost: boolean | null; state: string | null; n: number }[]
  >(
    `select coalesce(h.url, i.host_url) as url, coalesce(h.draining, false) as draining, h.lost_at is not null as lost,
       i.state, coalesce(i.n, 0)::int as n
     from instance_hosts h
     full join (select host_url, state, count(*)::int as n from instances where state <> 'dead' group by host_url, state) i on i.host_url = h.url
     order by 1, 3`,
  );
  const byUrl = new Map<string, HostSummary>();
  for (const r of rows) {
    let h = byUrl.get(r.url);
    if (!h) {
      h = { url: r.url, draining: Boolean(r.draining), lost: Boolean(r.lost), states: {} };
      byUrl.set(r.url, h);
    }
    if (r.state) h.states[r.state] = Number(r.n);
  }
  return [...byUrl.values()];
}

/** A host that does not answer: its idle instances set aside (`crashed`), so claims take idle ones elsewhere. Returns how many. */
export async function parkIdle(em: EntityManager, hostUrl: string): Promise<number> {
  const res = await em.execute<RunResult>(
    `update instances set state = 'crashed', updated_at = now() where host_url = ? and state = 'idle'`,
    [hostUrl],
    "run",
  );
  return res.affectedRows ?? 0;
}

/**
 * Conversation names the agents reported (ListInstances), recorded where they
 * changed, for claimed agents only. An empty name is not recorded: an agent
 * asleep, or on a host that restarted, has not read its group yet, and the
 * last name it told stays. Whitespace is collapsed and the name cut to
 * CONVERSATION_NAME_MAX code points: any member may set it, and a page shows it.
 */
export async function recordConversationNames(
  em: EntityManager,
  reported: {
    instanceId: string;
    name?: string | undefined;
    /** Each of its conversations with its name: those other than the home are kept in agent_conversations. */
    others?: { conversationId: string; name: string }[] | undefined;
  }[],
): Promise<number> {
  const others = reported.flatMap((r) =>
    (r.others ?? []).flatMap((c) => {
      const name = shownConversationName(c.name);
      return name ? [{ id: r.instanceId, conversationId: c.conversationId, name }] : [];
    }),
  );
  if (others.length > 0) {
    // The home row follows `instances` (migration 0030's trigger); the others are named here.
    await em.execute(
      `update agent_conversations c set conversation_name = v.name, updated_at = now()
       from unnest(array[?]::text[], array[?]::text[], array[?]::text[]) as v(id, conversation_id, name)
       where c.instance_id = v.id and c.conversation_id = v.conversation_id and c.state = 'joined' and not c.home
         and c.conversation_name is distinct from v.name`,
      [others.map((n) => n.id), others.map((n) => n.conversationId), others.map((n) => n.name)],
    );
  }
  const named = reported.flatMap((r) => {
    const name = shownConversationName(r.name ?? "");
    return name ? [{ id: r.instanceId, name }] : [];
  });
  if (named.length === 0) return 0;
  const res = await em.execute<RunResult>(
    `update instances i set conversation_name = v.name
     from unnest(array[?]::text[], array[?]::text[]) as v(id, name)
     where i.id = v.id and i.state = 'claimed' and i.conversation_name is distinct from v.name`,
    [named.map((n) => n.id), named.map((n) => n.name)],
    "run",
  );
  return res.affectedRows ?? 0;
}
