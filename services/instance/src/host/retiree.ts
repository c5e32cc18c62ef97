// A destroyed instance that may still be added somewhere (docs/reliability.md,
// "A claim that dies mid-join").
//
// Joining is asking (agent/state/invites.ts): a join request the creator has not yet
// answered stays in their DMs, and their client may add the agent long after
// the pool gave up on the claim, marked the instance dead and destroyed it.
// With nothing left running for that inbox, the agent would sit in the
// conversation for good, deaf. So a destroy first retires the instance: its
// claim goes (config, credentials, memory, every file but its record, its
// invites and its XMTP database), and a watch of its invites alone runs, with
// no agent behind it, leaving any conversation it is added to. When the last
// invite has expired, the workspace goes. The host lists retirees nowhere the
// pool sees, brings them back after a restart, and never starts one again.

import type { Logger } from "@convos-pool/kit/server";
import { InviteGuard, retirement, type InvitesFile } from "../agent/state/invites.js";
import type { AgentKeys } from "../platform/keys.js";
import { SYSTEM_CLOCK, type Clock } from "../platform/clock.js";
import { FILES, type InstanceRecord, type Workspace } from "../platform/workspace.js";
import { createAgentClient, type AgentClient } from "../platform/xmtp.js";

/** Timers wake at least this often (a watch can last days). */
const MAX_TIMER_MS = 24 * 60 * 60 * 1000;

export interface RetireeDeps {
  xmtpApiUrl: string;
  keys: AgentKeys;
  log: Logger;
  /** Stream reconnect delay; default 2 s. */
  streamRetryMs?: number;
  /** The machine's by default; a test's, to reach an expiry without waiting for it. */
  clock?: Clock;
}

/**
 * Retires a stopped instance's workspace: what it must still watch is kept,
 * and nothing else. Undefined when nothing is left to watch: the workspace is
 * gone then.
 */
export async function retireWorkspace(ws: Workspace, now: number): Promise<InstanceRecord | undefined> {
  const record = await ws.readJson<InstanceRecord>(FILES.instance);
  const plan = retirement(await ws.readJson<InvitesFile>(FILES.invites), now);
  if (!record || !plan.until) {
    await ws.destroy();
    return undefined;
  }
  await ws.writeJson(FILES.invites, plan.file);
  const retired: InstanceRecord = { ...record, stopped: true, retiredUntil: plan.until };
  await ws.writeJson(FILES.instance, retired);
  await ws.keepOnly([FILES.instance, FILES.invites, FILES.xmtpDir]);
  return retired;
}

export class Retiree {
  private client: AgentClient | undefined;
  private guard: InviteGuard | undefined;
  private cancelTimer: (() => void) | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly now: () => number;

  constructor(
    private readonly deps: RetireeDeps,
    readonly ws: Workspace,
    readonly record: InstanceRecord,
    /** Called once the workspace is gone. */
    private readonly onDone: () => void,
  ) {
    this.log = deps.log.child({ instanceId: record.instanceId });
    this.clock = deps.clock ?? SYSTEM_CLOCK;
    this.now = () => this.clock.now();
  }

  get id(): string {
    return this.record.instanceId;
  }

  get walletIndex(): number {
    return this.record.walletIndex;
  }

  /** Watches its invites until the last one expires; destroys the workspace at once when that time has passed. */
  async start(): Promise<void> {
    if (this.remaining() <= 0) return this.finish();
    const wallet = await this.deps.keys.wallet(this.record.instanceId, this.record.walletIndex);
    this.client = await createAgentClient(wallet.account, {
      apiUrl: this.deps.xmtpApiUrl,
      dbPath: this.ws.xmtpDbPath,
      dbEncryptionKey: wallet.xmtpDbKey(),
    });
    this.guard = new InviteGuard(this.ws, this.log, {
      // In no conversation: any group of its invites is one to leave.
      mine: () => false,
      retryMs: this.deps.streamRetryMs ?? 2_000,
      now: this.now,
    });
    await this.guard.open(this.client);
    this.schedule();
    this.log.info("retired: watching its invites", { until: this.record.retiredUntil });
  }

  /** The host stops: the watch ends, the workspace stays (the next start brings it back). */
  async stop(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.guard?.stop();
    this.guard = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.close().catch((err: unknown) => this.log.warn("could not close the XMTP client", { err }));
  }

  private remaining(): number {
    return Date.parse(this.record.retiredUntil ?? "") - this.now();
  }

  private schedule(): void {
    this.cancelTimer = this.clock.after(
      Math.min(Math.max(this.remaining(), 0), MAX_TIMER_MS),
      () => {
        if (this.remaining() > 0) return this.schedule();
        void this.finish().catch((err: unknown) => this.log.warn("could not destroy a retired instance", { err }));
      },
      { unref: true },
    );
  }

  private async finish(): Promise<void> {
    await this.stop();
    await this.ws.destroy();
    this.log.info("instance destroyed: its invites expired");
    this.onDone();
  }
}
