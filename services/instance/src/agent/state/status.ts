// Where an agent is in its life, and what it runs on: its InstanceState
// (face/agent.ts lists them), why it crashed, whether it was stopped, when
// it last heard or did anything (what dormancy measures quiet by), its
// wallet, its inbox id and its XMTP client: its status. This is their only
// owner: the files that move it (life/lifecycle.ts, life/dormancy.ts,
// face/claim.ts, conversation/listening.ts) call the transitions below,
// everyone else reads.

import type { Logger } from "@convos-pool/kit/server";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { AgentKeys, InstanceWallet } from "../../platform/keys.js";
import type { Workspace } from "../../platform/workspace.js";
import { createAgentClient, type AgentClient } from "../../platform/xmtp.js";

export interface StatusDeps {
  keys: AgentKeys;
  walletIndex: number;
  xmtpApiUrl: string;
  ws: Workspace;
  log: Logger;
}

export class Status {
  private now: InstanceState = InstanceState.STARTING;
  private why: string | undefined;
  private halted = false;
  private lastHeard = Date.now();
  private keys: InstanceWallet | undefined;
  private asked: Promise<InstanceWallet> | undefined;
  private owned = false;
  private inbox = "";
  private xmtp: AgentClient | undefined;

  constructor(private readonly deps: StatusDeps) {}

  get state(): InstanceState {
    return this.now;
  }

  /** Why it crashed, for logs and ListInstances callers. */
  get failure(): string | undefined {
    return this.why;
  }

  /** StopInstance or the host closing: nothing new starts. */
  get stopped(): boolean {
    return this.halted;
  }

  /** When it last heard or did anything (Date.now()). */
  get lastActive(): number {
    return this.lastHeard;
  }

  /** Its wallet once its start has it; undefined before, and while it sleeps dormant since the host started. */
  get wallet(): InstanceWallet | undefined {
    return this.owned ? this.keys : undefined;
  }

  /** Its wallet, which everything after its start relies on: asked for before, it is the host's bug, and says so. */
  mustWallet(): InstanceWallet {
    if (!this.owned || !this.keys)
      throw new Error(`instance ${this.deps.ws.instanceId} has no wallet: it has not started`);
    return this.keys;
  }

  /** Its wallet, asked of the keys service the first time (a dormant agent has none until it needs it). */
  async walletNow(): Promise<InstanceWallet | undefined> {
    if (!this.owned) return undefined;
    if (this.keys) return this.keys;
    this.asked ??= this.deps.keys.wallet(this.deps.ws.instanceId, this.deps.walletIndex).finally(() => {
      this.asked = undefined;
    });
    this.keys = await this.asked;
    return this.keys;
  }

  get inboxId(): string {
    return this.inbox;
  }

  get client(): AgentClient | undefined {
    return this.xmtp;
  }

  /** Its XMTP client, which everything while it is awake relies on: asked for while it has none, it says so. */
  mustClient(): AgentClient {
    if (!this.xmtp) throw new Error(`instance ${this.deps.ws.instanceId} has no XMTP client: it is not awake`);
    return this.xmtp;
  }

  // ---- its state ----

  /** A start (again): no failure, not stopped. */
  starting(): void {
    this.now = InstanceState.STARTING;
    this.why = undefined;
    this.halted = false;
  }

  /** Registered, not configured: a warm instance of the pool (a start, a Release). */
  idle(): void {
    this.now = InstanceState.IDLE;
  }

  /** Configured, not yet in its conversation. */
  claiming(): void {
    this.now = InstanceState.CLAIMING;
  }

  /** In its conversation and answering there (its stream runs). */
  claimed(): void {
    this.now = InstanceState.CLAIMED;
  }

  /** Asleep: no client, its group watched by the host. */
  dormant(): void {
    this.now = InstanceState.DORMANT;
  }

  /** Stopped for good in this process. */
  dead(): void {
    this.now = InstanceState.DEAD;
  }

  crashed(err: unknown): void {
    this.now = InstanceState.CRASHED;
    this.why = err instanceof Error ? err.message : String(err);
  }

  /** StopInstance or the host closing: from now on nothing new starts. */
  stop(): void {
    this.halted = true;
  }

  /** It heard or did something now. */
  active(): void {
    this.lastHeard = Date.now();
  }

  // ---- what it runs on ----

  /**
   * Its wallet from now on, its key asked of the keys service when first
   * needed (`walletNow`): a dormant agent brought back when the host starts
   * needs none until it wakes, so a restart with thousands of dormant agents
   * asks for none of their keys.
   */
  useWallet(): void {
    this.owned = true;
  }

  /** Its inbox id as its record has it, before any client (a dormant start). */
  knownAs(inboxId: string): void {
    this.inbox = inboxId;
  }

  /** Its XMTP client, opened on the database in its workspace; its inbox id is the client's. */
  async connect(): Promise<AgentClient> {
    await this.walletNow();
    const wallet = this.mustWallet();
    const client = await createAgentClient(wallet.account, {
      apiUrl: this.deps.xmtpApiUrl,
      dbPath: this.deps.ws.xmtpDbPath,
      dbEncryptionKey: wallet.xmtpDbKey(),
    });
    this.xmtp = client;
    this.inbox = client.inboxId;
    return client;
  }

  /** Lets go of its client, which it returns: closed (`close`) once nothing uses it any more. */
  disconnect(): AgentClient | undefined {
    const client = this.xmtp;
    this.xmtp = undefined;
    return client;
  }

  /**
   * A client only dropped keeps libxmtp's workers, database pool (three
   * threads) and open files for the life of the process, about 2.5 MB each
   * (bench/xmtp-clients.ts): close it, after the call in progress and before
   * its database file may be deleted.
   */
  async close(client: AgentClient | undefined): Promise<void> {
    if (!client) return;
    await client.close().catch((err: unknown) => this.deps.log.warn("could not close the XMTP client", { err }));
  }
}
