// RestoreInstance: an agent of a host lost for good comes back on this one
// (docs/scaling.md, "A host lost for good"). Its wallet's key comes from the
// keys service, which releases it to this host only while the pool moves the
// agent here from a host marked lost, so its inbox is the same; its sealed state (the newest
// its old host kept off its disk) is opened with the key from that wallet and
// written as its workspace, without any XMTP database; it starts with a new
// installation of its inbox, revokes every other one (the lost host's among
// them), and asks to be let back into its conversation (agent/face/claim.ts
// `rejoin`), STARTING until it is in, then CLAIMED. A state sealed before
// conversations.json (its conversation in state.json) opens too: the agent's
// start moves it into a folder per conversation (agent/conversation/migration.ts).
//
// Only the newest state opens (docs/scaling.md, "Only the newest state"):
// with the lineage service configured, the agent's high-water mark, the
// sequence of the newest state its vault kept as the agent signed it, is
// read first, its signature checked here against the agent's own wallet,
// and a state below it is refused. Whoever kept an old state (a database
// operator, a broken claims service) cannot roll the agent back alone.
//
// Only what the pool signed (docs/scaling.md, "Only what the pool signed";
// restore-record.ts): the claims service hands the pool's record of the
// agent with its state (RestoreRecord): a state of another owner is refused,
// unless it carries the signed transfers from the pool's owner to its own;
// where its trust level, daily limit or permissions differ, the agent comes
// back at the lower of the two, field by field; a state no mark names is
// taken only when the pool can date it. A host holds its agents' keys, so
// what it seals is its word alone: this keeps a broken host's forged state
// from outliving it on a healthy one.
//
// Only an agent whose host is gone moves (docs/scaling.md, "Only a lost host's
// agents"): the state names the host that sealed it, and a restore elsewhere
// asks that host's health first. While it still answers, nothing is moved: an
// agent running in two places (the old one still holding its keys and its
// conversation) is worse than one that waits; the claims service's word
// that the host is lost is not enough on its own.
//
// Nothing is written before the state opened, its instance.json names the
// wallet at that index, and it agrees with the pool's record. Asked again
// for an agent it already runs (a retry), it answers as the first did and
// writes no state: one whose start the network refused (left CRASHED, with
// its XMTP database, for this retry or the host's reviver) is started
// again, and the other installations are revoked if the first try did not
// get to it.

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { failedPrecondition, invalidArgument } from "@convos-pool/kit/content";
import { type ClientCredentials, createServiceClient, type Logger } from "@convos-pool/kit/server";
import { Health, HealthCheckResponse_ServingStatus } from "@convos-pool/gen/grpc/health/v1/health_pb.js";
import {
  type RestoreInstanceRequest,
  type RestoreInstanceResponse,
  RestoreInstanceResponseSchema,
} from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import type { StateMark } from "@convos-pool/gen/convos/pool/v1/state_mark_service_pb.js";
import { SignatureVerifier } from "@convos-pool/kit/signing";
import type { Agent } from "../agent/face/agent.js";
import { type AgentKeys, MAX_WALLET_INDEX } from "../platform/keys.js";
import { type AgentState, openState, VaultError, writeState } from "../platform/vault.js";
import { FILES, INSTANCE_ID_PATTERN, type InstanceRecord, type MovedFile, Workspace } from "../platform/workspace.js";
import { checkDated, lowerTrust, planOwner, requireRecord, type TransferLink } from "./restore-record.js";

/** What a restore needs of the host (routes.ts's HostAgents is one). */
export interface RestoreHost {
  keys: AgentKeys;
  dataDir: string;
  instances: Map<string, Agent>;
  /** Starts (or returns the running) instance; refuses a wallet index that another instance uses. */
  start(id: string, walletIndex: number): Promise<Agent>;
  log: Logger;
  /** The pool its agents sign for. */
  poolId: string;
  /** An agent's high-water mark (the lineage service's); absent: no marks are kept, none is checked. */
  marks?: ((instanceId: string) => Promise<StateMark | undefined>) | undefined;
  /** This host's own address, as the pool names it. */
  ownUrl?: (() => string) | undefined;
  /** Whether the host at this address answers its health check as serving; absent: nobody is asked. */
  answers?: ((url: string) => Promise<boolean>) | undefined;
  /** Checks owners' signatures against the network: a state's transfers of its owner. */
  verifier: () => Promise<SignatureVerifier>;
}

/** Restores in progress, by instance id: a retry waits for the first. */
const inProgress = new WeakMap<RestoreHost, Map<string, Promise<RestoreInstanceResponse>>>();

export function restoreInstance(host: RestoreHost, req: RestoreInstanceRequest): Promise<RestoreInstanceResponse> {
  const running = inProgress.get(host) ?? new Map<string, Promise<RestoreInstanceResponse>>();
  inProgress.set(host, running);
  const pending = running.get(req.instanceId);
  if (pending) return pending;
  const p = restore(host, req).finally(() => running.delete(req.instanceId));
  running.set(req.instanceId, p);
  return p;
}

async function restore(host: RestoreHost, req: RestoreInstanceRequest): Promise<RestoreInstanceResponse> {
  const { instanceId, walletIndex, state } = req;
  if (!INSTANCE_ID_PATTERN.test(instanceId)) {
    throw invalidArgument("instance_id", "1 to 128 letters, digits, '_' or '-', starting with a letter or digit");
  }
  if (walletIndex > MAX_WALLET_INDEX) throw invalidArgument("wallet_index", `at most ${MAX_WALLET_INDEX}`);
  if (!state) throw invalidArgument("state", "required: the agent's newest sealed state");
  if (state.instanceId !== instanceId) {
    throw invalidArgument("state.instance_id", `names ${state.instanceId}, not ${instanceId}`);
  }
  const record = requireRecord(req.record);

  const running = host.instances.get(instanceId);
  if (running) {
    // A retry: of a restore that went through, or of one the network refused part way (its start,
    // or the revocation); the agent's XMTP database is kept, so its installation is the same.
    if (running.walletIndex !== walletIndex) {
      throw failedPrecondition(`instance ${instanceId} runs here with wallet index ${running.walletIndex}`);
    }
    // Started again if it crashed; otherwise once it is ready.
    await host.start(instanceId, walletIndex).catch((err: unknown) => refused(host.log, instanceId, "start", err));
    // Nothing to sign when no other installation is left (the first try revoked them).
    await running.client
      ?.revokeAllOtherInstallations()
      .catch((err: unknown) => refused(host.log, instanceId, "revocation of its other installations", err));
    return answer(running);
  }

  // Released by the keys service only while the pool moves this agent here from a host marked lost.
  const wallet = await host.keys.wallet(instanceId, walletIndex);
  const marked = await checkNewest(host, instanceId, wallet.address, state.sequence);
  let opened: AgentState;
  try {
    opened = openState(wallet.vaultKey(), instanceId, state.sequence, state.sealed);
  } catch (err) {
    if (err instanceof VaultError) throw invalidArgument("state.sealed", err.message);
    throw err;
  }
  await checkHostGone(host, instanceId, opened.host);
  const selfText = opened.files[FILES.instance];
  const self = selfText ? (JSON.parse(selfText) as InstanceRecord) : undefined;
  if (!self || self.instanceId !== instanceId || self.address.toLowerCase() !== wallet.address.toLowerCase()) {
    throw invalidArgument(
      "wallet_index",
      `the sealed state's agent is ${self?.address ?? "unnamed"}, not the wallet at index ${walletIndex} (${wallet.address})`,
    );
  }
  if (!ofAnAgentInAConversation(opened.files)) {
    throw failedPrecondition(`the sealed state of ${instanceId} is not of an agent in a conversation`);
  }
  // What its host sealed is that host's word: the pool's record decides (restore-record.ts).
  if (!marked) checkDated(opened.sealedAt, record);
  const trust = lowerTrust(opened.files, record);
  await checkTransfers(host, instanceId, planOwner(opened.files, record));

  // What a stopped workspace of the same id left here (it lived here once) gives way to the newer state.
  const ws = new Workspace(host.dataDir, instanceId);
  await ws.destroy();
  // Its record as it was, but not stopped or retired: it runs here now.
  const { stopped: _stopped, retiredUntil: _retired, ...kept } = self;
  await writeState(
    ws,
    { ...opened, files: { ...opened.files, ...trust.files, [FILES.instance]: JSON.stringify(kept) } },
    state.sequence,
  );
  await ws.writeJson(FILES.moved, {
    restoredAt: new Date().toISOString(),
    sequence: state.sequence.toString(),
  } satisfies MovedFile);

  const instance = await host
    .start(instanceId, walletIndex)
    .catch((err: unknown) => refused(host.log, instanceId, "start", err));
  const client = instance.client;
  if (client) {
    // The lost host's installation (and any other) can no longer read or speak for the agent.
    await client
      .revokeAllOtherInstallations()
      .catch((err: unknown) => refused(host.log, instanceId, "revocation of its other installations", err));
  }
  host.log.info("instance restored from its sealed state", {
    instanceId,
    sequence: state.sequence,
    inboxId: instance.inboxId,
    installationId: client?.installationId,
    // Where its sealed state and the pool's record differed: the lower of the two, field by field.
    ...(trust.lowered.length > 0 ? { lowered: trust.lowered } : {}),
  });
  return answer(instance);
}

/**
 * Whether a state's files are those of a configured agent in a
 * conversation: config.json, and conversations.json or, sealed before it,
 * state.json (its start moves such a workspace into the new layout:
 * agent/conversation/migration.ts). Pure.
 */
export function ofAnAgentInAConversation(files: Readonly<Record<string, string>>): boolean {
  return files[FILES.config] !== undefined && (files[FILES.conversations] ?? files[FILES.state]) !== undefined;
}

/**
 * Refuses a state older than the agent's mark. The mark counts only when the
 * agent's own wallet signed it for this agent and sequence (anyone else's
 * mark, or one altered, is not the agent's word and is refused as such); a
 * lineage service that cannot be asked stops the restore, to be asked again.
 * Whether a mark was checked: a state no mark names is dated by the pool's
 * record instead (restore-record.ts `checkDated`).
 */
export async function checkNewest(
  host: RestoreHost,
  instanceId: string,
  address: string,
  sequence: bigint,
): Promise<boolean> {
  if (!host.marks) return false;
  let mark: StateMark | undefined;
  try {
    mark = await host.marks(instanceId);
  } catch (err) {
    host.log.warn("a restore could not read the agent's state mark", { instanceId, err });
    throw new ConnectError(
      `the newest state of ${instanceId} could not be checked (the lineage service did not answer); ask again later`,
      Code.Unavailable,
    );
  }
  if (!mark) return false;
  const own = new SignatureVerifier({
    resolver: { addressBelongsToInbox: async (a) => a.toLowerCase() === address.toLowerCase() },
    poolId: host.poolId,
  });
  try {
    await own.verify(
      "MarkAgentState",
      { inboxId: mark.inboxId, instanceId, sequence: mark.sequence },
      mark.agentSignature,
      "mark",
      { anyAge: true },
    );
  } catch (err) {
    throw failedPrecondition(
      `the state mark of ${instanceId} is not the agent's own (${ConnectError.from(err).rawMessage}): nothing restored`,
    );
  }
  if (sequence < mark.sequence) {
    throw failedPrecondition(
      `state.sequence: ${sequence} is older than the newest state ${instanceId} recorded (${mark.sequence}); restore that one`,
    );
  }
  return true;
}

/**
 * Checks each transfer a state of another owner carries against the network,
 * as the agent checked it when it took its new owner: the owner's offer and
 * the new owner's acceptance, at any age (their windows were checked then).
 * A signature that does not check out refuses the state, naming
 * `state.owner_id`; a network that cannot be asked stops the restore, to be
 * asked again.
 */
async function checkTransfers(host: RestoreHost, instanceId: string, links: readonly TransferLink[]): Promise<void> {
  if (links.length === 0) return;
  const verifier = await host.verifier();
  for (const l of links) {
    try {
      const at = `transfers[${l.index}]`;
      await verifier.verify(
        "TransferAgent",
        { inboxId: l.from, instanceId, newOwnerId: l.to },
        l.offer,
        `${at}.offer`,
        {
          anyAge: true,
        },
      );
      await verifier.verify(
        "AcceptAgent",
        { inboxId: l.to, instanceId, fromOwnerId: l.from },
        l.acceptance,
        `${at}.acceptance`,
        { anyAge: true },
      );
    } catch (err) {
      if (!(err instanceof ConnectError) || err.code === Code.Unavailable || err.code === Code.Internal) {
        host.log.warn("a restore could not check the state's transfer of its owner", { instanceId, err });
        throw new ConnectError(
          `the transfer of ${instanceId}'s owner could not be checked (the XMTP network did not answer); ask again later`,
          Code.Unavailable,
        );
      }
      throw failedPrecondition(
        `state.owner_id: the sealed state's transfer from ${l.from} to ${l.to} is not theirs (${err.rawMessage}); nothing restored`,
      );
    }
  }
}

/**
 * Refuses to move an agent whose sealing host still answers: it is not lost
 * (stopped, its disk gone, or unreachable), whatever the caller says. A
 * state that names no host (sealed before hosts named themselves), or names
 * this one (a retry after this host's restart), is not asked about.
 */
export async function checkHostGone(
  host: RestoreHost,
  instanceId: string,
  sealedBy: string | undefined,
): Promise<void> {
  if (!sealedBy || !host.answers || sealedBy === host.ownUrl?.()) return;
  if (await host.answers(sealedBy)) {
    throw failedPrecondition(
      `${instanceId}'s host ${sealedBy} still answers: an agent moves only when its host is gone (stop that host first, or mark it found)`,
    );
  }
}

/** How long a restore waits for the old host's health: a host that takes longer is taken as gone. */
const HEALTH_TIMEOUT_MS = 3_000;

/** Whether the host at `url` answers grpc.health.v1's Check as SERVING (TLS as this host's; health asks no credential). */
export async function hostAnswers(url: string, credentials: ClientCredentials): Promise<boolean> {
  const health = createServiceClient(Health, url, credentials);
  try {
    const res = await health.client.check({ service: "" }, { timeoutMs: HEALTH_TIMEOUT_MS });
    return res.status === HealthCheckResponse_ServingStatus.SERVING;
  } catch {
    return false;
  } finally {
    health.close();
  }
}

/**
 * A step of the restore that failed here, as the mover reads it: the agent
 * stays (a failed start leaves it CRASHED, with its XMTP database, and the
 * host starts it again: reviver.ts), and a retry takes it from there; the
 * network's words stay in the host's log.
 */
function refused(log: Logger, instanceId: string, step: string, err: unknown): never {
  if (err instanceof ConnectError) throw err;
  log.warn(`a restore's ${step} failed; the agent is kept here for the retry`, { instanceId, err });
  const limited = err instanceof Error && /rate limit/i.test(err.message);
  throw new ConnectError(
    limited
      ? `the XMTP network's rate limit refused ${instanceId}'s ${step} here; it is kept here: ask again later`
      : `${instanceId}'s ${step} failed here; it is kept here: ask again later`,
    limited ? Code.ResourceExhausted : Code.Unavailable,
  );
}

function answer(instance: Agent): RestoreInstanceResponse {
  return create(RestoreInstanceResponseSchema, {
    inboxId: instance.inboxId,
    installationId: instance.client?.installationId ?? "",
    state: instance.state,
  });
}
