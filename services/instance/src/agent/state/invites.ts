// Invites an instance gave up on, and the watch that keeps it out of their
// conversations (docs/claims.md, "A join request outlives its rollback").
//
// Joining a Convos conversation is asking: the instance sends a join request
// to the invite's creator in a DM, and the creator's client adds it whenever
// it reads the request, which can be long after the claim gave up (the
// creator was offline) and the pool released the instance. XMTP cannot take
// a request back. So the instance remembers the invite of every claim it is
// released from, watches the groups it is added to, and leaves
// (`requestRemoval`) any group carrying one of those invites' tags, until the
// invite expires (a Convos client ignores requests for an expired invite),
// or for 7 days when the invite names no expiry. It is kept in invites.json,
// so the watch comes back with the instance after a host restart.

import { readAppData } from "@convos-pool/convos";
import type { Logger } from "@convos-pool/kit/server";
import { FILES, type Workspace } from "../../platform/workspace.js";
import type { AgentClient, AgentGroup } from "../../platform/xmtp.js";

/** How long an invite without an expiry is watched after it was abandoned. */
export const ABANDONED_INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Expiry checks at least this often (timers cannot wait for weeks). */
const MAX_TIMER_MS = 24 * 60 * 60 * 1000;
/**
 * While watching, a sync of its groups this often: a stream is quick but not
 * a promise (a welcome processed by a concurrent sync, or one that came while
 * the stream was opening, is never streamed), so a slow poll bounds how long
 * the agent can sit in a group of an abandoned invite.
 */
export const INVITE_SWEEP_MS = 20_000;

/** An invite the instance sent a join request for. */
export interface InviteAttempt {
  tag: string;
  creatorInboxId: string;
  /** The invite's own expiry (ISO), if it has one. */
  expiresAt?: string;
}

export interface AbandonedInvite {
  tag: string;
  creatorInboxId: string;
  /** Watched until then (ISO). */
  until: string;
}

/** invites.json: not part of a claim, so Release keeps it. */
export interface InvitesFile {
  /** The invite of the current (or last) claim's join. */
  attempt?: InviteAttempt;
  /**
   * The invites of the other conversations its owner added it to (asked or
   * joined): not given up while it is there; a Release gives them up with
   * the claim's.
   */
  added?: InviteAttempt[];
  abandoned: AbandonedInvite[];
}

export interface InviteGuardOptions {
  /** Whether a conversation is one the instance is in (its home, or one its owner added it to): never left. */
  mine: (conversationId: string) => boolean;
  /** Stream reconnect delay. */
  retryMs: number;
  /** The backstop sync's period; default INVITE_SWEEP_MS. */
  sweepMs?: number;
  now?: () => number;
}

/** An invite given up on at `now`: watched until it expires, or for the TTL when it names no expiry. */
export function abandonInvite(a: InviteAttempt, now: number): AbandonedInvite {
  const ttl = new Date(now + ABANDONED_INVITE_TTL_MS).toISOString();
  return { tag: a.tag, creatorInboxId: a.creatorInboxId, until: a.expiresAt ?? ttl };
}

/**
 * What an instance destroyed at `now` still has to watch (host/retiree.ts): every
 * invite not expired, its current claim's too, released or not (a destroyed
 * agent belongs in no conversation), and until when: the latest expiry, or
 * none when nothing is left to watch.
 */
export function retirement(file: InvitesFile | undefined, now: number): { file: InvitesFile; until?: string } {
  const abandoned = [...(file?.abandoned ?? [])];
  for (const attempt of [file?.attempt, ...(file?.added ?? [])]) {
    if (attempt && !abandoned.some((a) => a.tag === attempt.tag)) abandoned.push(abandonInvite(attempt, now));
  }
  const live = abandoned.filter((a) => Date.parse(a.until) > now);
  if (live.length === 0) return { file: { abandoned: [] } };
  const until = new Date(Math.max(...live.map((a) => Date.parse(a.until)))).toISOString();
  return { file: { abandoned: live }, until };
}

export class InviteGuard {
  private file: InvitesFile = { abandoned: [] };
  private client: AgentClient | undefined;
  private stream: { end(): unknown } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private sweeping = false;
  private readonly leaving = new Set<string>();
  private readonly now: () => number;

  constructor(
    private readonly ws: Workspace,
    private readonly log: Logger,
    private readonly opts: InviteGuardOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Tags it leaves groups of (tests, logs). */
  get abandoned(): readonly AbandonedInvite[] {
    return this.file.abandoned;
  }

  /** When the client is up (start, restart): watches again if an abandoned invite has not expired. */
  async open(client: AgentClient): Promise<void> {
    this.client = client;
    this.file = (await this.ws.readJson<InvitesFile>(FILES.invites)) ?? { abandoned: [] };
    if (await this.refresh()) await this.sweep();
  }

  /**
   * Before the join request goes out, so that a Release finds it even after a
   * restart. Joining an abandoned invite again (a new claim into the same
   * conversation) takes it off the list; an earlier attempt never released,
   * and the invites of an earlier claim's added conversations, are abandoned.
   */
  async attempt(invite: InviteAttempt): Promise<void> {
    if (this.file.abandoned.some((a) => a.tag === invite.tag)) await this.syncLeft(invite.tag);
    const abandoned = this.file.abandoned.filter((a) => a.tag !== invite.tag);
    for (const previous of [this.file.attempt, ...(this.file.added ?? [])]) {
      if (previous && previous.tag !== invite.tag) abandoned.push(this.abandon(previous));
    }
    await this.save({ attempt: invite, abandoned });
    await this.refresh();
  }

  /**
   * Before the join request for another conversation its owner adds it to
   * goes out (AddConversation): kept beside the claim's, which stays its
   * own. Joining an abandoned invite again takes it off the list.
   */
  async attemptAdded(invite: InviteAttempt): Promise<void> {
    if (this.file.abandoned.some((a) => a.tag === invite.tag)) await this.syncLeft(invite.tag);
    const added = [...(this.file.added ?? []).filter((a) => a.tag !== invite.tag), invite];
    await this.save({ ...this.file, added, abandoned: this.file.abandoned.filter((a) => a.tag !== invite.tag) });
    await this.refresh();
  }

  /**
   * An added conversation's invite done with: `joined`, it left that
   * conversation (no request of it is pending: nothing to watch); not
   * `joined`, the join gave up (its request may still be answered: watched
   * and left, as a released claim's).
   */
  async doneWith(tag: string, joined: boolean): Promise<void> {
    const attempt = (this.file.added ?? []).find((a) => a.tag === tag);
    if (!attempt) return;
    const added = (this.file.added ?? []).filter((a) => a.tag !== tag);
    const abandoned = joined ? this.file.abandoned : [...this.file.abandoned, this.abandon(attempt)];
    await this.save({ ...this.file, added, abandoned });
    if ((await this.refresh()) && !joined) await this.sweep();
  }

  /** Release: the claim's invite and every added one are abandoned; any group of them the instance is in is left, and later ones too. */
  async release(): Promise<void> {
    const given = [this.file.attempt, ...(this.file.added ?? [])].filter((a): a is InviteAttempt => a !== undefined);
    if (given.length === 0) return;
    const tags = new Set(given.map((a) => a.tag));
    await this.save({
      abandoned: [...this.file.abandoned.filter((a) => !tags.has(a.tag)), ...given.map((a) => this.abandon(a))],
    });
    if (await this.refresh()) await this.sweep();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.client = undefined;
    this.stopPolling();
    await this.endStream();
  }

  private abandon(a: InviteAttempt): AbandonedInvite {
    return abandonInvite(a, this.now());
  }

  private async save(file: InvitesFile): Promise<void> {
    await this.ws.writeJson(FILES.invites, file);
    this.file = file;
  }

  /** Drops expired invites; streams new groups while any is left. True when watching. */
  private async refresh(): Promise<boolean> {
    const now = this.now();
    const live = this.file.abandoned.filter((a) => Date.parse(a.until) > now);
    if (live.length !== this.file.abandoned.length) await this.save({ ...this.file, abandoned: live });
    clearTimeout(this.timer);
    this.timer = undefined;
    if (live.length === 0 || !this.client) {
      this.stopPolling();
      await this.endStream();
      return false;
    }
    const next = Math.min(...live.map((a) => Date.parse(a.until))) - now;
    this.timer = setTimeout(
      () => void this.refresh().catch((err: unknown) => this.log.warn("abandoned invites: refresh failed", { err })),
      Math.min(next, MAX_TIMER_MS),
    );
    this.timer.unref();
    if (!this.stream) await this.watch(this.client);
    this.poll ??= setInterval(() => void this.sweep(), this.opts.sweepMs ?? INVITE_SWEEP_MS);
    this.poll.unref();
    return true;
  }

  private stopPolling(): void {
    clearInterval(this.poll);
    this.poll = undefined;
  }

  private async watch(client: AgentClient): Promise<void> {
    const stream = await client.conversations.streamGroups({
      retryDelay: this.opts.retryMs,
      retryAttempts: Number.MAX_SAFE_INTEGER,
      onError: (err) => this.log.warn("abandoned invites: group stream error", { err }),
      // Welcomes that came while the stream was down are found by a sync.
      onRestart: () => void this.sweep(),
    });
    this.stream = stream;
    this.log.info("watching for groups of abandoned invites", { invites: this.file.abandoned.length });
    void (async () => {
      try {
        for await (const group of stream) if (group) await this.check(group);
      } catch (err) {
        if (this.stream === stream) this.log.warn("abandoned invites: group stream ended", { err });
      }
    })();
  }

  private async endStream(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (s) await Promise.resolve(s.end()).catch(() => undefined);
  }

  /** Every group it is in: what came while it was not streaming (a restart, the moment of a Release). */
  private async sweep(): Promise<void> {
    const client = this.client;
    if (!client || this.sweeping) return;
    this.sweeping = true;
    try {
      await client.conversations.sync();
      for (const group of client.conversations.listGroups()) await this.check(group);
    } catch (err) {
      this.log.warn("abandoned invites: sweep failed", { err });
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * A group of this invite that it left looks active until its removal is
   * synced; the join would take it for the conversation it is already in.
   */
  private async syncLeft(tag: string): Promise<void> {
    for (const group of this.client?.conversations.listGroups() ?? []) {
      if (readAppData(group.appData)?.tag !== tag) continue;
      await group
        .sync()
        .catch((err: unknown) =>
          this.log.warn("abandoned invites: could not sync a group it left", { conversationId: group.id, err }),
        );
    }
  }

  private async check(group: AgentGroup): Promise<void> {
    if (!this.stream || this.opts.mine(group.id) || !group.isActive || this.leaving.has(group.id)) return;
    const tag = readAppData(group.appData)?.tag;
    const now = this.now();
    if (!tag || !this.file.abandoned.some((a) => a.tag === tag && Date.parse(a.until) > now)) return;
    if (group.isPendingRemoval()) return;
    this.leaving.add(group.id);
    try {
      await group.requestRemoval();
      this.log.info("left a conversation of an abandoned invite", {
        conversationId: group.id,
        addedBy: group.addedByInboxId,
      });
    } catch (err) {
      this.log.warn("could not leave a conversation of an abandoned invite", { conversationId: group.id, err });
    } finally {
      this.leaving.delete(group.id);
    }
  }
}
