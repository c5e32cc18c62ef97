/**
 * The warm pool's decisions (manager.ts), pure: what a pass does with
 * each instance row given what the row's host lists, and which hosts get
 * the new instances of the fill. The manager applies them; every state
 * change it makes is a guarded update, so a claim that takes an idle
 * instance meanwhile wins and the pass leaves that row as it is.
 */
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { InstanceStateName } from "../db/entities.js";

/** A host that does not say its size (ListInstancesResponse.max_instances 0) is taken to hold the instance host's default. */
export const DEFAULT_HOST_CAPACITY = 1000;

/** An instance row as a pass reads it (never a dead one). */
export interface PoolRow {
  state: InstanceStateName;
  /** It has an owner: it was claimed. */
  owned: boolean;
  /** `starting` for longer than a start takes: the manager that started it died before it recorded the start. */
  stuck: boolean;
}

/** What the row's host says this pass (a host that did not answer decides nothing: its rows wait). */
export interface HostView {
  /** The instance's state as the host lists it; undefined when the host does not run it. */
  onHost: InstanceState | undefined;
  /** An operator drains the host (host-commands.ts), or it is lost for good (lost-hosts.ts): its idle instances go. */
  draining: boolean;
  /** The last pass, on any replica, could not reach the host. */
  wasUnreachable: boolean;
}

export type RowAction =
  /** As it is: healthy, or on its way (starting, claiming). `back`: a claimed agent whose host answers again. */
  | { kind: "keep"; back: boolean }
  /** Idle on a draining host: dead, then stopped with the host's other dead ones; replaced elsewhere. */
  | { kind: "drain" }
  /** Idle or claimed, and its host no longer runs it (or says crashed, dead): crashed, then `next`. */
  | { kind: "crash"; next: RowAction }
  /** An owner's crashed agent its host runs again: claimed (never replaced behind the owner's back). */
  | { kind: "recover" }
  /** Set aside (crashed) while its host did not answer, and idle there: back in the pool. */
  | { kind: "reidle" }
  /** Crashed, no owner: dead for good (its wallet index is never reused); the fill starts another. */
  | { kind: "replace" }
  /** Stuck starting, and its host runs it idle: idle, its start recorded now. */
  | { kind: "idleFromLostStart" }
  /** Stuck starting, and its host does not run it idle: dead. */
  | { kind: "abandonStart" };

/** What a host lists that is not running. */
const GONE = new Set([InstanceState.CRASHED, InstanceState.DEAD]);

/** A row's step in this pass, from its state and what its host says. */
export function decideRow(row: PoolRow, host: HostView): RowAction {
  const healthy = host.onHost !== undefined && !GONE.has(host.onHost);
  if (row.state === "idle" && healthy && host.draining) return { kind: "drain" };
  if (row.state === "idle" || row.state === "claimed") {
    if (healthy) return { kind: "keep", back: row.state === "claimed" && host.wasUnreachable };
    return { kind: "crash", next: decideRow({ ...row, state: "crashed" }, host) };
  }
  if (row.state === "crashed") {
    if (row.owned) return healthy ? { kind: "recover" } : { kind: "keep", back: false };
    // Not back into the pool on a host that is draining or lost: a claim could take it there.
    return host.onHost === InstanceState.IDLE && !host.draining ? { kind: "reidle" } : { kind: "replace" };
  }
  if (row.state === "starting" && row.stuck) {
    return host.onHost === InstanceState.IDLE ? { kind: "idleFromLostStart" } : { kind: "abandonStart" };
  }
  return { kind: "keep", back: false };
}

/** What a pass does with an instance a host runs that is none of its live rows there. */
export type StrangerStep =
  /** Its row follows it here: the host came back on another address (the recorded one is no configured host's). */
  | "adopt"
  /** Stopped and its workspace destroyed: dead, running where its row is, or on a lost host. */
  | "destroy"
  /** Stopped, its workspace kept: the pool has no row for it (someone's agent this database does not know). */
  | "stopKeep"
  /**
   * Left running: a move under way (its row is on a lost host: host-mover.ts) or just ended here (its row
   * came here after the listing), or its recorded host did not say it runs it.
   */
  | "leave";

export interface StrangerView {
  /** Its row: where it is recorded, and whether it is dead; undefined when the pool has none. */
  row: { hostUrl: string; dead: boolean } | undefined;
  /** The host that runs it is lost for good: it keeps nothing of ours. */
  hereLost: boolean;
  /** Its row names this host now (it moved here since the host was listed): the next pass sees it as its own. */
  recordedHere: boolean;
  /** The recorded host is one of the configured ones (INSTANCE_HOST_URLS). */
  recordedConfigured: boolean;
  recordedLost: boolean;
  /** Whether the recorded host lists it this pass; undefined when it did not answer. */
  recordedRuns: boolean | undefined;
}

/**
 * A stranger's step. Two copies of one agent may run while a move off a lost
 * host is retried: the host mover goes back to the host holding the refused
 * one (host-mover.ts), so that copy is left alone; a copy left where a move
 * did not end (the agent lives where its row says) goes. Adopting it instead
 * would take the row from the live agent: only a host that changed address
 * (a restart on a new port) takes its rows with it.
 */
export function strangerStep(v: StrangerView): StrangerStep {
  if (!v.row) return "stopKeep";
  if (v.row.dead) return "destroy";
  if (v.recordedHere) return "leave";
  if (v.hereLost) return "destroy";
  if (!v.recordedConfigured) return "adopt";
  if (v.recordedLost) return "leave";
  return v.recordedRuns === true ? "destroy" : "leave";
}

/**
 * The host with the most free places, as the share of its size it runs
 * (`count / capacity`: a host twice the size takes twice the instances);
 * none when every one is full. Ties go to the first listed.
 */
export function mostFreeHost<H extends { url: string }>(
  hosts: readonly H[],
  counts: ReadonlyMap<string, number>,
  capacity: ReadonlyMap<string, number>,
): H | undefined {
  let best: H | undefined;
  let bestLoad = Infinity;
  for (const h of hosts) {
    const size = capacity.get(h.url) ?? DEFAULT_HOST_CAPACITY;
    const count = counts.get(h.url) ?? 0;
    if (count >= size) continue;
    const load = count / size;
    if (load < bestLoad) {
      best = h;
      bestLoad = load;
    }
  }
  return best;
}

/**
 * Where `count` new instances go: one host per instance, each the one with the most free places
 * once the ones before it are counted; `unplaced` when every host is full.
 */
export function placeInstances<H extends { url: string }>(
  count: number,
  hosts: readonly H[],
  counts: ReadonlyMap<string, number>,
  capacity: ReadonlyMap<string, number>,
): { placements: H[]; unplaced: number } {
  const running = new Map(counts);
  const placements: H[] = [];
  while (placements.length < count) {
    const host = mostFreeHost(hosts, running, capacity);
    if (!host) break;
    placements.push(host);
    running.set(host.url, (running.get(host.url) ?? 0) + 1);
  }
  return { placements, unplaced: count - placements.length };
}

/**
 * The fill's placements: for each runtime the open hosts run (in the order
 * they are listed), as many new instances as its warm ones (idle or
 * starting) fall short of `target`, each on a host of that runtime by free
 * places (placeInstances); what no host has a free place for, by runtime.
 */
export function planFill<H extends { url: string }, R extends string>(
  target: number,
  warm: ReadonlyMap<string, number>,
  open: readonly H[],
  runtimeOf: (host: H) => R,
  counts: ReadonlyMap<string, number>,
  capacity: ReadonlyMap<string, number>,
): { placements: { host: H; runtime: R }[]; unplaced: { runtime: R; hosts: number; missing: number }[] } {
  const placements: { host: H; runtime: R }[] = [];
  const unplaced: { runtime: R; hosts: number; missing: number }[] = [];
  for (const runtime of new Set(open.map(runtimeOf))) {
    const remaining = Math.max(0, target - (warm.get(runtime) ?? 0));
    if (remaining === 0) continue;
    const hosts = open.filter((h) => runtimeOf(h) === runtime);
    const placed = placeInstances(remaining, hosts, counts, capacity);
    if (placed.unplaced > 0) unplaced.push({ runtime, hosts: hosts.length, missing: placed.unplaced });
    placements.push(...placed.placements.map((host) => ({ host, runtime })));
  }
  return { placements, unplaced };
}

/** The first retry of a failed move waits this long, each next one twice as long, up to MOVE_BACKOFF_MAX_SECONDS. */
export const MOVE_BACKOFF_FIRST_SECONDS = 5;
export const MOVE_BACKOFF_MAX_SECONDS = 10 * 60;

/** How long an agent's move off a lost host waits after its `attempts`-th failure (host-mover.ts). */
export function moveBackoffSeconds(attempts: number): number {
  return Math.min(MOVE_BACKOFF_MAX_SECONDS, MOVE_BACKOFF_FIRST_SECONDS * 2 ** Math.max(0, attempts - 1));
}

/** The most of a conversation's name kept: what XMTP allows a group's name, and enough for any page. */
export const CONVERSATION_NAME_MAX = 100;

/** A group's name as the pool keeps it: one line, trimmed, at most CONVERSATION_NAME_MAX code points. */
export function shownConversationName(name: string): string {
  const line = name.replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, " ").trim();
  return [...line].slice(0, CONVERSATION_NAME_MAX).join("").trim();
}
