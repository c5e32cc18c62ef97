// Keeps each claimed agent's durable state off its host (docs/scaling.md, "A
// host lost for good"): when an agent's workspace changes a durable file, the
// agent is marked; at most every `debounceMs` the sender seals every marked
// agent's state at its next sequence (platform/vault.ts, kept in vault.json)
// and sends them, many agents a call, to the claims service's
// AgentVaultService.PutAgentStates. Marking is synchronous and cheap, so a
// turn never waits on it; a call that fails marks its agents again and the
// next pass waits longer (backoff), so a change is never lost, only late. A
// dormant agent writes nothing, so it sends nothing. Each state the vault
// kept is then marked with the lineage service (AgentStateMarkService): its
// sequence, signed by the agent's wallet, the high-water mark below which a
// restore opens nothing (host/restore.ts; docs/scaling.md, "Only the newest
// state"). A mark not sent is sent again with the agent's next pass.
import { create } from "@bufbuild/protobuf";
import {
  type PutAgentStateOutcome,
  type SealedAgentState,
  SealedAgentStateSchema,
} from "@convos-pool/gen/convos/pool/v1/agent_vault_service_pb.js";
import { type StateMark, StateMarkSchema } from "@convos-pool/gen/convos/pool/v1/state_mark_service_pb.js";
import type { Logger } from "@convos-pool/kit/server";
import { signOperation } from "@convos-pool/kit/signing";
import type { AgentKeys } from "../platform/keys.js";
import { collectState, isDurableFile, sealState, VAULT_FILE, type VaultFile } from "../platform/vault.js";
import { FILES, type InstanceRecord, Workspace } from "../platform/workspace.js";

export const DEFAULT_VAULT_DEBOUNCE_MS = 2_000;
/** Agents a PutAgentStates call carries at most (2 MB each at worst; most are a few KB). */
export const VAULT_BATCH = 50;
/** Bytes a call carries at most, under the claims service's 16 MiB limit on a call (one 2 MB state still goes alone). */
export const VAULT_CALL_BYTES = 8 * 1024 * 1024;
const MAX_BACKOFF_MS = 60_000;

/** Sends sealed states; the real one is an AgentVaultService client, tests pass a sink. */
export type PutStates = (states: SealedAgentState[]) => Promise<PutAgentStateOutcome[]>;
/**
 * Sends the marks of states kept; the real one is an AgentStateMarkService client. Resolves to the agents whose
 * marks were refused (the lineage service may not know a new agent yet): they are marked again.
 */
export type PutMarks = (marks: StateMark[]) => Promise<string[]>;

export interface VaultSenderOptions {
  put: PutStates;
  /** Where the marks of kept states go; none: no marks (a restore then checks none). */
  mark?: PutMarks | undefined;
  /** The pool the agents sign their marks for. */
  poolId: string;
  keys: AgentKeys;
  dataDir: string;
  log: Logger;
  debounceMs?: number;
  /** This host's address as the pool names it, sealed into each state (a restore asks it first: restore.ts). */
  hostUrl?: () => string;
}

export class VaultSender {
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private closed = false;

  constructor(private readonly opts: VaultSenderOptions) {}

  /** A workspace's write listener: `new Workspace(dataDir, id, sender.listener(id))`. */
  listener(instanceId: string): (name: string) => void {
    return (name) => {
      if (isDurableFile(name)) this.mark(instanceId);
    };
  }

  /** The agent's state changed: it goes out with the next pass. */
  mark(instanceId: string): void {
    if (this.closed) return;
    this.dirty.add(instanceId);
    this.schedule();
  }

  /**
   * A pass now (tests, shutdown): every agent marked so far sealed and sent. A
   * pass already running may have sealed an agent before its latest change,
   * and another caller may start the pass after it that takes the mark: both
   * are waited for.
   */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    if (this.dirty.size === 0) return;
    this.running = this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Sends what is marked, then stops. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.dirty.size > 0) await this.flush();
    this.closed = true;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = (this.opts.debounceMs ?? DEFAULT_VAULT_DEBOUNCE_MS) * 2 ** Math.min(this.failures, 5);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.flush().then(() => {
          if (this.dirty.size > 0) this.schedule();
        });
      },
      Math.min(wait, MAX_BACKOFF_MS),
    );
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    const ids = [...this.dirty];
    this.dirty.clear();
    // A call carries at most VAULT_BATCH states and VAULT_CALL_BYTES: the claims service refuses a larger call whole.
    let batch: SealedAgentState[] = [];
    /** Whose wallet signs each sealed state's mark. */
    const agents = new Map<string, Sealed["agent"]>();
    let bytes = 0;
    let unsent = 0; // ids before this index were sent (or could not be sealed)
    const flush = async (upTo: number): Promise<boolean> => {
      if (batch.length === 0) {
        unsent = upTo;
        return true;
      }
      try {
        const outcomes = await this.opts.put(batch);
        for (const o of outcomes) {
          if (!o.stored)
            this.opts.log.warn("an agent's state was not kept", { instanceId: o.instanceId, why: o.error });
        }
        const kept = new Set(outcomes.filter((o) => o.stored).map((o) => o.instanceId));
        const marked = await this.markKept(
          batch.filter((st) => kept.has(st.instanceId)),
          agents,
        );
        this.failures = marked ? 0 : this.failures + 1;
        unsent = upTo;
        batch = [];
        bytes = 0;
        return true;
      } catch (err) {
        // Sealed again at the next pass, at a newer sequence: nothing is lost.
        for (const id of ids.slice(unsent)) this.dirty.add(id);
        this.failures++;
        this.opts.log.warn("agents' states not sent; trying again", { agents: ids.length - unsent, err });
        return false;
      }
    };
    for (const [i, id] of ids.entries()) {
      let sealed: Sealed | undefined;
      try {
        sealed = await sealAgent(this.opts.keys, this.opts.dataDir, id, this.opts.hostUrl?.());
      } catch (err) {
        // Too large, or its workspace unreadable: said, not retried until it changes again.
        this.opts.log.error("an agent's state could not be sealed: it is not kept off this host", {
          instanceId: id,
          err,
        });
      }
      if (!sealed) continue;
      const { state } = sealed;
      agents.set(id, sealed.agent);
      const size = state.sealed.byteLength;
      if (batch.length > 0 && (batch.length >= VAULT_BATCH || bytes + size > VAULT_CALL_BYTES)) {
        if (!(await flush(i))) return;
      }
      batch.push(state);
      bytes += size;
    }
    await flush(ids.length);
  }

  /**
   * The marks of states the vault kept, each signed by its agent. Marks not sent put their agents back for the
   * next pass (after the backoff): an agent that changes nothing more would otherwise stay unmarked, and a
   * restore would take a state older than the one kept.
   */
  private async markKept(
    states: readonly SealedAgentState[],
    agents: ReadonlyMap<string, Sealed["agent"]>,
  ): Promise<boolean> {
    const mark = this.opts.mark;
    if (!mark || states.length === 0) return true;
    try {
      const marks = await Promise.all(
        states.flatMap((st) => {
          const agent = agents.get(st.instanceId);
          if (!agent) return [];
          const fields = { inboxId: agent.inboxId, instanceId: st.instanceId, sequence: st.sequence };
          return [
            this.opts.keys
              .wallet(st.instanceId, agent.walletIndex)
              .then((wallet) => signOperation(wallet.account, "MarkAgentState", fields, undefined, this.opts.poolId))
              .then((agentSignature) => create(StateMarkSchema, { ...fields, agentSignature })),
          ];
        }),
      );
      const refused = await mark(marks);
      if (refused.length === 0) return true;
      for (const id of refused) this.dirty.add(id);
      this.opts.log.warn("agents' state marks refused; their states are sent and marked again", { refused });
      return false;
    } catch (err) {
      for (const st of states) this.dirty.add(st.instanceId);
      this.opts.log.warn("agents' state marks not sent; their states are sent and marked again", { err });
      return false;
    }
  }
}

/** A sealed state, and whose wallet signs its mark. */
interface Sealed {
  state: SealedAgentState;
  agent: { inboxId: string; walletIndex: number };
}

/**
 * A claimed agent's state sealed at its next sequence (recorded in vault.json
 * before it is sent: a sequence is never used twice); none for an agent that
 * is not configured, stopped, retired or gone.
 */
export async function sealAgent(
  keys: AgentKeys,
  dataDir: string,
  instanceId: string,
  host?: string,
): Promise<Sealed | undefined> {
  const ws = new Workspace(dataDir, instanceId);
  const record = await ws.readJson<InstanceRecord>(FILES.instance);
  if (!record || record.stopped || record.retiredUntil) return undefined;
  if ((await ws.readText(FILES.config)) === undefined) return undefined;
  const last = await ws.readJson<VaultFile>(VAULT_FILE);
  const sequence = BigInt(last?.sequence ?? "0") + 1n;
  const wallet = await keys.wallet(instanceId, record.walletIndex);
  // Dated, so that a restore with no mark can set it beside the pool's record (restore-record.ts).
  const state = { ...(await collectState(ws, host)), sealedAt: new Date().toISOString() };
  const sealed = sealState(wallet.vaultKey(), sequence, state);
  await ws.writeJson(VAULT_FILE, { sequence: sequence.toString() } satisfies VaultFile);
  return {
    state: create(SealedAgentStateSchema, { instanceId, sequence, sealed }),
    agent: { inboxId: record.inboxId, walletIndex: record.walletIndex },
  };
}
