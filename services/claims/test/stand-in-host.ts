/**
 * TEST STAND-IN, NOT PRODUCT CODE. An in-memory instance host speaking the
 * real contracts (InstanceHostService and InstanceService over gRPC, the
 * instance selected by `x-pool-instance`), so the claims service's real
 * GrpcInstanceRuntime is exercised over the wire.
 *
 * Since the real host (services/instance) is in, every happy path runs
 * against it in claims-e2e.int.test.ts. This stand-in stays for what the real host
 * cannot be made to do on demand: fail a start, a configure, a join or a
 * release with an unexpected error, report an instance crashed; and for tests
 * whose subject is the database (validation, races, lists), which need many
 * idle instances cheaply and no XMTP node. It keeps no XMTP client and joins
 * nothing; it records what it was asked.
 *
 * UpdateTemplate is checked as an instance must check it: the creator's
 * signature verified with the kit (`verifyReleaseChain`) against the
 * template and creator the instance was configured with, refused when not
 * newer than the applied version; the applied version, model and tools are
 * recorded. UpdateTemplates (a host's batch) applies each named agent's
 * update the same way and answers per agent. Faults: a failing update (for
 * every agent or named ones), an answer lost after applying, slow updates, a
 * host that predates the batch call, and the whole host going away and
 * coming back on the same port.
 *
 * ConfigureInstances and JoinConversations (a claim's two calls for many
 * agents at once) run each named agent's configure or join exactly as the
 * single calls do, with the same faults ("configure" and "join" failing, slow
 * joins), each outcome an agent's own; each agent's call is recorded in
 * `calls` as a single call's is, and each batch in `claimBatches`. A host
 * that predates them (`takesClaimBatches` false) answers as a host built
 * before them does: it has no route for them.
 *
 * Attest (each claimed agent's badge) is taken when it names the agent's
 * own inbox, as the claims service does it after every claim; so is each of
 * AttestInstances (many agents' at once), each outcome an agent's own, each
 * single call in `singleAttests` and each batch in `attestBatches`. A host
 * that predates AttestInstances alone (`takesAttestBatches` false) has no
 * route for it.
 *
 * RestoreInstance (an agent of a lost host brought back here) records what
 * it was handed (`restores`) and runs the agent claimed under the inbox its
 * wallet index had when a stand-in in this process started it (the real
 * host derives it from the master seed); "restore" fails it on demand. It
 * opens nothing: the real host's side is tested with the real host.
 *
 * AddConversation and LeaveConversation (one agent in several conversations)
 * check what the real agent checks (services/instance
 * agent/face/conversations.ts, planAdd and planLeave): the invite and the
 * owner's signature present, the agent claimed, at most MAX_CONVERSATIONS,
 * the owner's AddToConversation or RemoveFromConversation signature over
 * these very fields by the owner it was configured with, each nonce once; an
 * invite it joined already answers that conversation, a conversation it is
 * not in is NOT_FOUND naming conversation_id, its last one is refused. The
 * conversation's id is made up from the invite. ListInstances lists each
 * agent's conversations, and CountMembers says `members` (2 unless set).
 * Faults: "add" and "leave" fail before anything is done; "add-answer" and
 * "leave-answer" do it, then lose the answer.
 */
import { createHash, randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { createPublicClient, http } from "viem";
import { AgentRuntime, TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  InstanceAttestOutcomeSchema,
  InstanceConfigureOutcomeSchema,
  InstanceHostService,
  JoinConversationsResponseSchema,
  type RestoreRecord,
  TemplateUpdateOutcomeSchema,
} from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import {
  ActivityEntrySchema,
  AgentConversationState,
  InstanceState,
  ToolCallOutcome,
  type ActivityEntry,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  InstanceService,
  type AddConversationRequest,
  type AttestRequest,
  type ConfigureRequest,
  type InstanceServiceUpdateTemplateRequest,
  type ToolCredential,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import {
  asTheySettle,
  createLogger,
  pageSize,
  type RunningServer,
  serviceAuthInterceptor,
  type ServiceCredentials,
  startServer,
  toInstanceCallError,
} from "@convos-pool/kit/server";
import {
  compareReleaseKeys,
  checkTrustRequest,
  DEFAULT_MODEL,
  effectiveMaxTrustLevel,
  grantName,
  initialTrustLevel,
  INSTANCE_HEADER,
  failedPrecondition,
  failedPreconditionOn,
  invalidArgument,
  outsiderReplyName,
  approvalPlaceName,
  permissionsMessage,
  resolveParticipation,
  resolvePermissions,
  type ResolvedParticipation,
  type ResolvedPermissions,
  trustLevelName,
} from "@convos-pool/kit/content";
import {
  addToConversationFields,
  DerivedInboxResolver,
  inviteHash,
  LOCAL_POOL_ID,
  SignatureVerifier,
  verifyReleaseChain,
} from "@convos-pool/kit/signing";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";

/** The most conversations one agent is in (the real agent's MAX_CONVERSATIONS). */
const MAX_CONVERSATIONS = 10;

export interface StandInInstance {
  id: string;
  walletIndex: number;
  inboxId: string;
  state: InstanceState;
  configured?: ConfigureRequest | undefined;
  conversationId?: string | undefined;
  releases: number;
  /** Template version applied: the configured one, then each update's. */
  appliedVersion?: number | undefined;
  /** Its bases' versions applied with it, its base first. */
  appliedBases?: number[] | undefined;
  /** The model it runs on after the last update. */
  model?: string | undefined;
  /** The pool tools of the last update (with their secrets, as an instance holds them). */
  tools?: ToolCredential[] | undefined;
  /** The level its owner last set (none yet: where its template starts it). */
  trust?: { level: TrustLevel; dailySpendLimitWei: string } | undefined;
  /** Whose requests it acts on, as its owner last set them (none yet: the defaults). */
  permissions?: ResolvedPermissions | undefined;
  /** When it speaks, as its owner last set it (none yet: by the conversation's size). */
  participation?: ResolvedParticipation | undefined;
  /** When it speaks in each conversation its owner named (SetParticipation with a conversation_id). */
  participationIn?: Map<string, ResolvedParticipation> | undefined;
  /** Its activity log, oldest first: here only its changes of level and of permissions. */
  activity?: ActivityEntry[] | undefined;
  /** The conversations its owner added it to (AddConversation), in the order joined. */
  added?: { conversationId: string; inviteHash: string; joinedAt: number }[] | undefined;
}

/**
 * `update-answer`: the update is applied, then the answer is lost (UNAVAILABLE).
 * `restore-crashed`: a restore refused part way (RESOURCE_EXHAUSTED, as the
 * network's rate limit leaves it), the agent kept here CRASHED, as the
 * instance host keeps it to start it again.
 */
type Step =
  | "start"
  | "restore"
  | "restore-crashed"
  | "configure"
  | "join"
  | "release"
  | "update"
  | "update-answer"
  | "transfer"
  | "withdraw"
  | "offer"
  | "trust"
  | "permissions"
  | "participation"
  | "add"
  | "add-answer"
  | "leave"
  | "leave-answer";

export class StandInHost {
  readonly instances = new Map<string, StandInInstance>();
  /** Every InstanceService call, in order. */
  readonly calls: { step: Step | "health" | "stop" | "destroy" | "funds"; instanceId: string }[] = [];
  /** Steps that fail until cleared: with INTERNAL (a fault on the host), or the code given in `failingWith`. */
  readonly failing = new Set<Step>();
  readonly failingWith = new Map<Step, Code>();
  /** How long each UpdateTemplate takes. */
  updateDelayMs = 0;
  /** How long each JoinConversation takes (a claim in flight). */
  joinDelayMs = 0;
  /** How long each AddConversation takes (an addition in flight: the creator's app letting the agent in). */
  addDelayMs = 0;
  /** The size ListInstances reports (max_instances); 0: not said. */
  maxInstances = 0;
  /** The members CountMembers says each agent's home conversation has; none: 2 (the agent and its owner). */
  readonly members = new Map<string, number>();
  /** Each agent's conversation name as ListInstances reports it (a real agent reads it from its group); none: "". */
  readonly conversationNames = new Map<string, string>();
  /** Where GetFunds reads an agent's wallet balance (the local chain); unset: it says it holds no wallet. */
  chainRpcUrl: string | undefined;
  /** What GetFunds says an agent spent in the last 24 hours, in wei: the stand-in keeps no ledger. */
  readonly spentToday = new Map<string, bigint>();
  /** What it says its agents run on (ListInstances); unspecified: the pool's own. */
  runtime: AgentRuntime = AgentRuntime.UNSPECIFIED;
  /** Agents' updates in progress now, and the most at once. */
  updatesInFlight = 0;
  maxUpdatesInFlight = 0;
  /** Update calls (UpdateTemplate, or a host's UpdateTemplates) in progress now, and the most at once. */
  updateCallsInFlight = 0;
  maxUpdateCallsInFlight = 0;
  /** The number of agents named in each UpdateTemplates call, in order. */
  readonly batches: number[] = [];
  /** Agents whose updates fail (INTERNAL), alone or in a batch. */
  readonly failingInstances = new Set<string>();
  /** False: a host that predates UpdateTemplates (UNIMPLEMENTED). */
  takesBatches = true;
  /** False: a host that predates ConfigureInstances and JoinConversations (no route for them: `noRoute`). */
  takesClaimBatches = true;
  /** Each ConfigureInstances and JoinConversations call, in order: the agents it named. */
  readonly claimBatches: { call: "configure" | "join"; instanceIds: string[] }[] = [];
  /** False: a host that predates AttestInstances only (no route for it: `noRoute`). */
  takesAttestBatches = true;
  /** Each AttestInstances call, in order: the agents it named. */
  readonly attestBatches: string[][] = [];
  /** Each single Attest call, in order: its agent (not in `calls`: every claim is followed by one). */
  readonly singleAttests: string[] = [];
  /** Each RestoreInstance, in order: the agent, its wallet index, the sealed state and the pool's record it was handed. */
  readonly restores: {
    instanceId: string;
    walletIndex: number;
    sequence: bigint;
    sealed: Uint8Array;
    record: RestoreRecord | undefined;
  }[] = [];
  /** The inbox of each wallet index a stand-in of this process started (one master seed, one inbox per index). */
  private static readonly inboxOfWallet = new Map<number, string>();
  private server: RunningServer | undefined;
  private port: number | undefined;
  private readonly verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
  /** The owners' nonces its agents took (AddConversation, LeaveConversation): each once, as an agent keeps them. */
  private readonly usedNonces = new Set<string>();

  private constructor(
    private readonly credentials: ServiceCredentials,
    private readonly checkConfigure: boolean,
  ) {}

  get url(): string {
    return `${this.credentials.tls ? "https" : "http"}://127.0.0.1:${this.port}`;
  }

  /**
   * Serves with a host's credentials: only the claims service may call it, as
   * the real host. It checks Configure's release as the real host does,
   * unless `checkConfigure` is false: for a benchmark of the claims service
   * alone, where the host's signature check (1 to 2 ms of CPU) would be
   * counted against the service.
   */
  static async start(credentials: ServiceCredentials, opts: { checkConfigure?: boolean } = {}): Promise<StandInHost> {
    const host = new StandInHost(credentials, opts.checkConfigure ?? true);
    await host.listen();
    return host;
  }

  /** Serves again on the same port, with every instance as it was (the host is back). */
  async restart(): Promise<void> {
    await this.server?.close();
    await this.listen();
  }

  private async listen(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handlers below are methods of service objects, with a `this` of their own
    const host = this;
    this.server = await startServer({
      name: "stand-in-instance-host",
      port: this.port,
      host: "127.0.0.1",
      log: createLogger("stand-in-host", { level: "silent" }),
      ...(this.credentials.tls ? { tls: this.credentials.tls } : {}),
      // The real host's policy (HOST_ACCESS of the instance package, which would load the XMTP SDK here).
      interceptors: [
        serviceAuthInterceptor(this.credentials.directory, {
          [InstanceHostService.typeName]: ["claims"],
          [InstanceService.typeName]: ["claims"],
        }),
      ],
      routes: (router) => {
        router.service(InstanceHostService, {
          startInstance: (req) => {
            host.calls.push({ step: "start", instanceId: req.instanceId });
            if (host.failing.has("start")) throw new ConnectError("injected start failure", Code.Internal);
            // A made-up inbox id: this stand-in has no XMTP client.
            const inboxId = createHash("sha256")
              .update(`${req.instanceId}/${req.walletIndex}/${randomBytes(8).toString("hex")}`)
              .digest("hex");
            host.instances.set(req.instanceId, {
              id: req.instanceId,
              walletIndex: req.walletIndex,
              inboxId,
              state: InstanceState.IDLE,
              releases: 0,
            });
            StandInHost.inboxOfWallet.set(req.walletIndex, inboxId);
            return { inboxId };
          },
          restoreInstance: (req) => {
            host.calls.push({ step: "restore", instanceId: req.instanceId });
            if (host.failing.has("restore")) throw new ConnectError("injected restore failure", Code.Internal);
            if (!req.state || req.state.instanceId !== req.instanceId)
              throw invalidArgument("state", "the sealed state of the agent named");
            const inboxId =
              StandInHost.inboxOfWallet.get(req.walletIndex) ??
              createHash("sha256").update(`wallet/${req.walletIndex}`).digest("hex");
            if (host.failing.has("restore-crashed")) {
              host.instances.set(req.instanceId, {
                id: req.instanceId,
                walletIndex: req.walletIndex,
                inboxId,
                state: InstanceState.CRASHED,
                releases: 0,
              });
              throw new ConnectError("injected: the network's rate limit refused the restore", Code.ResourceExhausted);
            }
            host.restores.push({
              instanceId: req.instanceId,
              walletIndex: req.walletIndex,
              sequence: req.state.sequence,
              sealed: req.state.sealed,
              record: req.record,
            });
            host.instances.set(req.instanceId, {
              id: req.instanceId,
              walletIndex: req.walletIndex,
              inboxId,
              state: InstanceState.CLAIMED,
              releases: 0,
            });
            return { inboxId, installationId: randomBytes(32).toString("hex"), state: InstanceState.CLAIMED };
          },
          stopInstance: (req) => {
            host.calls.push({ step: req.destroy ? "destroy" : "stop", instanceId: req.instanceId });
            host.instances.delete(req.instanceId);
            return {};
          },
          listInstances: () => ({
            instances: [...host.instances.values()].map((i) => ({
              instanceId: i.id,
              inboxId: i.inboxId,
              state: i.state,
              walletIndex: i.walletIndex,
              appliedTemplateVersion: BigInt(i.appliedVersion ?? 0),
              appliedBaseVersions: (i.appliedBases ?? []).map(BigInt),
              conversationName: host.conversationNames.get(i.id) ?? "",
              conversations: [
                ...(i.conversationId ? [i.conversationId] : []),
                ...(i.added ?? []).map((c) => c.conversationId),
              ].map((conversationId) => ({ conversationId, state: AgentConversationState.JOINED })),
            })),
            maxInstances: host.maxInstances,
            runtime: host.runtime,
          }),
          updateTemplates: async (req) => {
            if (!host.takesBatches) throw noRoute("UpdateTemplates", "unary");
            host.batches.push(req.instances.length);
            host.updateCallsInFlight++;
            host.maxUpdateCallsInFlight = Math.max(host.maxUpdateCallsInFlight, host.updateCallsInFlight);
            try {
              const outcomes = await Promise.all(
                req.instances.map(async ({ instanceId, tools }) => {
                  const i = host.instances.get(instanceId);
                  if (!i)
                    return create(TemplateUpdateOutcomeSchema, {
                      instanceId,
                      outcome: {
                        case: "error",
                        value: { code: Code.NotFound, message: `no instance ${instanceId} on this host` },
                      },
                    });
                  try {
                    const applied = await host.applyUpdate(i, {
                      template: req.template,
                      bases: req.bases,
                      tools,
                    });
                    return create(TemplateUpdateOutcomeSchema, {
                      instanceId,
                      outcome: { case: "applied", value: applied },
                    });
                  } catch (err) {
                    const e = ConnectError.from(err);
                    return create(TemplateUpdateOutcomeSchema, {
                      instanceId,
                      outcome: { case: "error", value: { code: e.code, message: e.rawMessage } },
                    });
                  }
                }),
              );
              // Applied, then the whole answer lost.
              if (host.failing.has("update-answer")) throw new ConnectError("injected: answer lost", Code.Unavailable);
              return { outcomes };
            } finally {
              host.updateCallsInFlight--;
            }
          },
          configureInstances: async (req) => {
            if (!host.takesClaimBatches) throw noRoute("ConfigureInstances", "unary");
            host.claimBatch(
              "configure",
              "instances",
              req.instances.map((r) => r.instanceId),
            );
            const outcomes = await Promise.all(
              req.instances.map(async (r) => {
                try {
                  await host.configure(host.step("configure", r.instanceId), r);
                  return create(InstanceConfigureOutcomeSchema, {
                    instanceId: r.instanceId,
                    outcome: { case: "configured", value: {} },
                  });
                } catch (err) {
                  return create(InstanceConfigureOutcomeSchema, {
                    instanceId: r.instanceId,
                    outcome: { case: "error", value: toInstanceCallError(err) },
                  });
                }
              }),
            );
            return { outcomes };
          },
          attestInstances: (req) => {
            if (!host.takesAttestBatches) throw noRoute("AttestInstances", "unary");
            const ids = req.instances.map((r) => r.instanceId);
            namedOnce("instances", ids);
            host.attestBatches.push(ids);
            return {
              outcomes: req.instances.map((r) => {
                try {
                  host.attest(host.byId(r.instanceId), r.attest);
                  return create(InstanceAttestOutcomeSchema, {
                    instanceId: r.instanceId,
                    outcome: { case: "attested", value: {} },
                  });
                } catch (err) {
                  return create(InstanceAttestOutcomeSchema, {
                    instanceId: r.instanceId,
                    outcome: { case: "error", value: toInstanceCallError(err) },
                  });
                }
              }),
            };
          },
          // Each outcome as its join ends, as the real host streams them.
          joinConversations: async function* (req) {
            if (!host.takesClaimBatches) throw noRoute("JoinConversations", "stream");
            host.claimBatch(
              "join",
              "joins",
              req.joins.map((j) => j.instanceId),
            );
            yield* asTheySettle(
              req.joins.map((j) =>
                (async () => host.join(host.step("join", j.instanceId), j.conversationInvite))().then(
                  (conversationId) =>
                    create(JoinConversationsResponseSchema, {
                      instanceId: j.instanceId,
                      outcome: { case: "joined", value: { conversationId } },
                    }),
                  (err: unknown) =>
                    create(JoinConversationsResponseSchema, {
                      instanceId: j.instanceId,
                      outcome: { case: "error", value: toInstanceCallError(err) },
                    }),
                ),
              ),
            );
          },
        });
        router.service(InstanceService, {
          configure: async (req, ctx) => {
            await host.configure(host.step("configure", host.headerId(ctx)), req);
            return {};
          },
          joinConversation: async (req, ctx) => ({
            conversationId: await host.join(host.step("join", host.headerId(ctx)), req.conversationInvite),
          }),
          health: (_req, ctx) => {
            const i = host.find(ctx);
            host.calls.push({ step: "health", instanceId: i.id });
            return {
              state: i.state,
              inboxId: i.inboxId,
              appliedTemplateVersion: BigInt(i.appliedVersion ?? 0),
              appliedBaseVersions: (i.appliedBases ?? []).map(BigInt),
            };
          },
          release: (_req, ctx) => {
            const i = host.step("release", host.headerId(ctx));
            i.configured = undefined;
            i.conversationId = undefined;
            i.appliedVersion = undefined;
            i.appliedBases = undefined;
            i.model = undefined;
            i.tools = undefined;
            i.trust = undefined;
            i.permissions = undefined;
            i.participation = undefined;
            i.activity = undefined;
            i.added = undefined;
            i.state = InstanceState.IDLE;
            i.releases++;
            return {};
          },
          updateTemplate: async (req, ctx) => {
            const i = host.find(ctx);
            host.updateCallsInFlight++;
            host.maxUpdateCallsInFlight = Math.max(host.maxUpdateCallsInFlight, host.updateCallsInFlight);
            try {
              const res = await host.applyUpdate(i, req);
              if (host.failing.has("update-answer")) throw new ConnectError("injected: answer lost", Code.Unavailable);
              return res;
            } finally {
              host.updateCallsInFlight--;
            }
          },
          attest: (req, ctx) => {
            const i = host.find(ctx);
            host.singleAttests.push(i.id);
            host.attest(i, req);
            return {};
          },
          cloneSummary: () => {
            throw new ConnectError("not in the stand-in", Code.Unimplemented);
          },
          // Takes any transfer: the real instance's checks are tested with the real host (clone-e2e.int.test.ts).
          transferOwner: (_req, ctx) => {
            host.step("transfer", host.headerId(ctx));
            return {};
          },
          // Takes any withdrawal: the real instance's check is tested with the real host (badge-e2e.int.test.ts).
          withdrawTransfer: (_req, ctx) => {
            host.step("withdraw", host.headerId(ctx));
            return {};
          },
          // Takes any offer: the real instance's check is tested with the real host (badge-e2e.int.test.ts).
          noteTransferOffer: (_req, ctx) => {
            host.step("offer", host.headerId(ctx));
            return {};
          },
          // The level's bounds as an instance checks them; not the owner's signature (the claims service checks it
          // too, and the real instance's own check is tested with the real host).
          setTrustLevel: (req, ctx) => {
            const i = host.step("trust", host.headerId(ctx));
            const max = effectiveMaxTrustLevel(
              i.configured?.template?.content?.maxTrustLevel ?? TrustLevel.UNSPECIFIED,
            );
            if (req.trustLevel < TrustLevel.OBSERVER || req.trustLevel > max) {
              throw invalidArgument(
                "trust_level",
                `must be L1 to ${trustLevelName(max)}: the highest its template allows`,
              );
            }
            // The limit as the instance takes it (docs/trust.md): required at L4, optional at L2 and L3, none at L1.
            const { text } = checkTrustRequest(req.trustLevel, req.dailySpendLimitWei);
            const limit = text === "" ? "0" : text;
            const before =
              i.trust?.level ??
              initialTrustLevel(i.configured?.template?.content?.maxTrustLevel ?? TrustLevel.UNSPECIFIED);
            i.trust = { level: req.trustLevel, dailySpendLimitWei: limit };
            i.activity ??= [];
            const log = i.activity;
            log.push(
              create(ActivityEntrySchema, {
                id: `act_${log.length + 1}`,
                at: timestampNow(),
                toolId: "trust",
                action: "set_trust_level",
                outcome: ToolCallOutcome.DONE,
                detail: `${trustLevelName(before)} → ${trustLevelName(req.trustLevel)}, set by the owner`,
                trustLevel: req.trustLevel,
                amountWei: limit === "0" ? "" : limit,
              }),
            );
            return { trustLevel: i.trust.level, dailySpendLimitWei: i.trust.dailySpendLimitWei };
          },
          // Values as an instance checks them (defaults filled in, an unknown one INVALID_ARGUMENT naming its field);
          // not the owner's signature, for the reason SetTrustLevel's is not checked here.
          setPermissions: (req, ctx) => {
            const i = host.step("permissions", host.headerId(ctx));
            const p = resolvePermissions(req.permissions);
            i.permissions = p;
            // The line the real agent logs (services/instance, toolbox.setPermissions).
            i.activity ??= [];
            const log = i.activity;
            log.push(
              create(ActivityEntrySchema, {
                id: `act_${log.length + 1}`,
                at: timestampNow(),
                toolId: "permissions",
                action: "set_permissions",
                outcome: ToolCallOutcome.DONE,
                detail:
                  `set by the owner: members: texts ${grantName(p.memberSms)}, mail ${grantName(p.memberEmail)}, ` +
                  `money ${grantName(p.memberCrypto)}; texts from outside: ${outsiderReplyName(p.outsiderReply)}; approvals: ${approvalPlaceName(p.approvals)}`,
                trustLevel:
                  i.trust?.level ??
                  initialTrustLevel(i.configured?.template?.content?.maxTrustLevel ?? TrustLevel.UNSPECIFIED),
              }),
            );
            return { permissions: permissionsMessage(p) };
          },
          // Checked as an instance checks them, not signed (as above); the real agent says the change in
          // its conversation rather than in its activity log, so nothing is logged here.
          setParticipation: (req, ctx) => {
            const i = host.step("participation", host.headerId(ctx));
            const p = resolveParticipation(req.participation);
            // In a conversation it names: one it is in, as the agent answers otherwise.
            if (req.conversationId) {
              if (
                req.conversationId !== i.conversationId &&
                !i.added?.some((c) => c.conversationId === req.conversationId)
              )
                throw new ConnectError(
                  `conversation_id: the agent is not in conversation ${req.conversationId}`,
                  Code.NotFound,
                );
              i.participationIn ??= new Map();
              i.participationIn.set(req.conversationId, p);
            }
            if (!req.conversationId || req.conversationId === i.conversationId) i.participation = p;
            return { participation: p };
          },
          countMembers: (_req, ctx) => ({ members: host.members.get(host.find(ctx).id) ?? 2 }),
          addConversation: async (req, ctx) => {
            const i = host.step("add", host.headerId(ctx));
            const conversationId = await host.addConversation(i, req);
            if (host.failing.has("add-answer")) throw new ConnectError("injected: answer lost", Code.Unavailable);
            return { conversationId };
          },
          leaveConversation: async (req, ctx) => {
            const i = host.step("leave", host.headerId(ctx));
            const home = await host.leaveConversation(i, req.ownerId, req.conversationId, req.signature);
            if (host.failing.has("leave-answer")) throw new ConnectError("injected: answer lost", Code.Unavailable);
            return { homeConversationId: home };
          },
          // As an agent answers: its wallet's balance read from the chain, its level's limit (empty below L4).
          getFunds: async (_req, ctx) => {
            const i = host.find(ctx);
            host.calls.push({ step: "funds", instanceId: i.id });
            const wallet = i.tools?.find((t) => t.toolId === "crypto");
            if (!wallet || !host.chainRpcUrl)
              throw new ConnectError("the agent holds no wallet", Code.FailedPrecondition);
            const chain = createPublicClient({ transport: http(host.chainRpcUrl) });
            const balance = await chain.getBalance({ address: wallet.handle as `0x${string}` });
            const level =
              i.trust?.level ??
              initialTrustLevel(i.configured?.template?.content?.maxTrustLevel ?? TrustLevel.UNSPECIFIED);
            return {
              walletAddress: wallet.handle,
              balanceWei: balance.toString(),
              spentTodayWei: (host.spentToday.get(i.id) ?? 0n).toString(),
              dailySpendLimitWei: level === TrustLevel.AUTONOMOUS ? (i.trust?.dailySpendLimitWei ?? "") : "",
              trustLevel: level,
            };
          },
          // Newest first; the page token is how many entries came before.
          listActivity: (req, ctx) => {
            const i = host.find(ctx);
            const from = req.pageToken === "" ? 0 : Number(req.pageToken);
            if (!Number.isSafeInteger(from) || from < 0)
              throw invalidArgument("page_token", "not a page token of this listing");
            const newest = [...(i.activity ?? [])].reverse();
            const to = from + pageSize(req.pageSize);
            return { entries: newest.slice(from, to), nextPageToken: to < newest.length ? String(to) : "" };
          },
        });
      },
    });
    this.port = this.server.port;
  }

  /** One agent's update, checked as an instance checks it (UpdateTemplate, and each agent of UpdateTemplates). */
  private async applyUpdate(
    i: StandInInstance,
    req: Pick<InstanceServiceUpdateTemplateRequest, "template" | "bases" | "tools">,
  ) {
    this.calls.push({ step: "update", instanceId: i.id });
    this.updatesInFlight++;
    this.maxUpdatesInFlight = Math.max(this.maxUpdatesInFlight, this.updatesInFlight);
    try {
      if (this.updateDelayMs > 0) await new Promise((r) => setTimeout(r, this.updateDelayMs));
      if (this.failing.has("update") || this.failingInstances.has(i.id))
        throw new ConnectError("injected update failure", Code.Internal);
      const configured = i.configured?.template;
      const t = req.template;
      if (!configured || !t) throw new ConnectError("not configured", Code.FailedPrecondition);
      // As a real instance: against what it was configured with, never what the update claims.
      const { content, key } = await verifyReleaseChain(this.verifier, t, req.bases, {
        templateId: configured.templateId,
        creatorId: configured.creatorId,
      });
      const applied = [i.appliedVersion ?? 0, ...(i.appliedBases ?? [])].map(BigInt);
      if (compareReleaseKeys(key, applied) <= 0) {
        throw new ConnectError(
          `release ${key.join(".")} is not newer than the applied ${applied.join(".")}`,
          Code.FailedPrecondition,
        );
      }
      i.appliedVersion = Number(t.version);
      i.appliedBases = req.bases.map((b) => Number(b.version));
      i.model = i.configured!.modelOverridden ? i.configured!.model : (content.model?.default ?? DEFAULT_MODEL.default);
      i.tools = req.tools;
      return { appliedVersion: t.version, appliedBaseVersions: key.slice(1), model: i.model };
    } finally {
      this.updatesInFlight--;
    }
  }

  /** A Configure, alone or within ConfigureInstances. */
  private async configure(i: StandInInstance, req: ConfigureRequest): Promise<void> {
    // As a real instance: only a release its creator signed, for the template it names.
    const t = req.template;
    if (!t) throw invalidArgument("template", "required: the template's release as its creator signed it");
    if (this.checkConfigure)
      await verifyReleaseChain(this.verifier, t, req.bases, { templateId: t.templateId, creatorId: t.creatorId });
    i.configured = req;
    i.appliedVersion = Number(req.template?.version ?? 0);
    i.appliedBases = req.bases.map((b) => Number(b.version));
    i.model = req.model;
    i.tools = req.tools;
  }

  /** A JoinConversation, alone or within JoinConversations: its conversation id. */
  private async join(i: StandInInstance, invite: string): Promise<string> {
    if (this.joinDelayMs > 0) await new Promise((r) => setTimeout(r, this.joinDelayMs));
    if (!i.configured) throw new ConnectError("not configured", Code.FailedPrecondition);
    i.conversationId = createHash("sha256").update(invite).digest("hex").slice(0, 32);
    i.state = InstanceState.CLAIMED;
    return i.conversationId;
  }

  /** An AddConversation as the real agent plans and checks it (planAdd): the conversation's id. */
  private async addConversation(i: StandInInstance, req: AddConversationRequest): Promise<string> {
    if (this.addDelayMs > 0) await new Promise((r) => setTimeout(r, this.addDelayMs));
    const invite = req.conversationInvite.trim();
    if (!invite) throw invalidArgument("conversation_invite", "is required");
    const auth = req.authorization;
    if (!auth?.signature)
      throw invalidArgument("authorization.signature", "is required: the owner signs each addition");
    if (!auth.ownerId) throw invalidArgument("authorization.owner_id", "is required");
    const owner = i.configured?.ownerId;
    if (!owner || !i.conversationId) throw failedPrecondition("the agent is in no conversation yet: claim it first");
    const hash = inviteHash(invite);
    const held = (i.added ?? []).find((c) => c.inviteHash === hash);
    if (held) return held.conversationId;
    if ((i.added?.length ?? 0) + 1 >= MAX_CONVERSATIONS)
      throw failedPreconditionOn("conversation_invite", `the agent is in ${MAX_CONVERSATIONS} conversations already`);
    // Its own owner and its own id, never the request's.
    const fields = addToConversationFields({
      ownerId: owner,
      instanceId: i.id,
      conversationInvite: invite,
      participation: auth.participation,
      tools: auth.tools,
      secondAgent: auth.secondAgent,
    });
    await this.checkOwner("AddToConversation", fields, auth.signature, "authorization.signature");
    const conversationId = createHash("sha256").update(`added/${invite}`).digest("hex").slice(0, 32);
    i.added = [...(i.added ?? []), { conversationId, inviteHash: hash, joinedAt: Date.now() }];
    return conversationId;
  }

  /** A LeaveConversation as the real agent plans and checks it (planLeave): its home after. */
  private async leaveConversation(
    i: StandInInstance,
    ownerId: string,
    conversationId: string,
    signature: Signature | undefined,
  ): Promise<string> {
    if (!conversationId) throw invalidArgument("conversation_id", "is required");
    const home = i.conversationId;
    const added = i.added ?? [];
    if (home !== conversationId && !added.some((c) => c.conversationId === conversationId))
      throw new ConnectError(`conversation_id: the agent is not in conversation ${conversationId}`, Code.NotFound);
    const rest = added.filter((c) => c.conversationId !== conversationId);
    if (home === conversationId && rest.length === 0)
      throw failedPreconditionOn("conversation_id", "is the agent's last conversation: remove the agent instead");
    const owner = i.configured?.ownerId ?? ownerId;
    await this.checkOwner(
      "RemoveFromConversation",
      { inboxId: owner, instanceId: i.id, conversationId },
      signature,
      "signature",
    );
    if (home === conversationId) {
      // The oldest added becomes the home (nextHome).
      const [next, ...others] = [...rest].sort((a, b) => a.joinedAt - b.joinedAt);
      i.conversationId = next!.conversationId;
      i.added = others;
    } else {
      i.added = rest;
    }
    return i.conversationId ?? "";
  }

  /** The owner's signature of `operation` over `fields`, each nonce once: PERMISSION_DENIED otherwise, as an agent. */
  private async checkOwner(
    operation: "AddToConversation" | "RemoveFromConversation",
    fields: Parameters<SignatureVerifier["verify"]>[1],
    signature: Signature | undefined,
    field: string,
  ): Promise<void> {
    let nonce: string;
    try {
      ({ nonce } = await this.verifier.verify(operation, fields, signature, field));
    } catch (err) {
      throw new ConnectError(
        `${field}: not the owner's ${operation}: ${ConnectError.from(err).rawMessage}`,
        Code.PermissionDenied,
      );
    }
    if (this.usedNonces.has(nonce)) throw new ConnectError(`${field}: used before`, Code.PermissionDenied);
    this.usedNonces.add(nonce);
  }

  /**
   * An Attest, alone or within AttestInstances, as an agent takes it: an
   * attestation of its own inbox (its publication is tested with the real
   * host, badge-e2e.int.test.ts).
   */
  private attest(i: StandInInstance, req: AttestRequest | undefined): void {
    if (req?.attestation?.inboxId !== i.inboxId)
      throw invalidArgument("attestation.inbox_id", "must name this agent's own inbox");
  }

  /** Records a batch call; each agent named once, as the real host requires. */
  private claimBatch(call: "configure" | "join", field: string, ids: string[]): void {
    namedOnce(field, ids);
    this.claimBatches.push({ call, instanceIds: ids });
  }

  private headerId(ctx: HandlerContext): string {
    return ctx.requestHeader.get(INSTANCE_HEADER) ?? "";
  }

  private find(ctx: HandlerContext): StandInInstance {
    return this.byId(this.headerId(ctx));
  }

  private byId(id: string): StandInInstance {
    const i = this.instances.get(id);
    if (!i) throw new ConnectError(`no instance ${id} on this host`, Code.NotFound);
    return i;
  }

  /** The agent a call is for, the call recorded; throws the injected failure of `step`, if any. */
  private step(step: Step, instanceId: string): StandInInstance {
    const i = this.byId(instanceId);
    this.calls.push({ step, instanceId: i.id });
    if (this.failing.has(step))
      throw new ConnectError(`injected ${step} failure`, this.failingWith.get(step) ?? Code.Internal);
    return i;
  }

  /** The InstanceService calls one instance received (not the host's start/stop). */
  callsOf(instanceId: string): string[] {
    return this.calls
      .filter((c) => c.instanceId === instanceId && c.step !== "start" && c.step !== "stop")
      .map((c) => c.step);
  }

  /** Stops serving: the host (and every instance on it) is gone, until `restart`. */
  async kill(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}

/** A batch call's agents: at least one, each named once, as the real host requires. */
function namedOnce(field: string, ids: string[]): void {
  if (ids.length === 0) throw invalidArgument(field, "at least one instance");
  const twice = ids.findIndex((id, n) => ids.indexOf(id) !== n);
  if (twice >= 0) throw invalidArgument(`${field}[${twice}].instance_id`, `instance ${ids[twice]} is named twice`);
}

/**
 * What a kit server built before a method answers a call of it: its fallback's
 * 404 with `not_found`, which a Connect client reads as NOT_FOUND for a unary
 * call and as UNIMPLEMENTED (HTTP 404) for a stream.
 */
function noRoute(method: string, kind: "unary" | "stream"): ConnectError {
  return kind === "unary"
    ? new ConnectError(`no route for POST /${InstanceHostService.typeName}/${method}`, Code.NotFound)
    : new ConnectError("HTTP 404", Code.Unimplemented);
}
