/**
 * The RPCs of `xmtp.mls.api.v1.MlsApi` and `xmtp.identity.api.v1.IdentityApi`,
 * transport-independent: each unary handler takes the request bytes and
 * returns the response bytes; each streaming handler writes to a sink.
 *
 * Behaviour follows the production node (xmtp-node-go) where the SDK can see
 * it: validation messages and codes, paging, idempotent sends, newest-message
 * metadata, the commit log's ascending-only queries. What the production node
 * delegates to its MLS validation service (signature checks, MLS validation)
 * is not done: see docs/xmtp-devnode.md.
 */
import type { Logger } from "@convos-pool/kit";
import { parsePublishIdentityUpdateRequest, isEthereumKind, normalizeAddress } from "./identity.js";
import type { DevnodeMetrics } from "./metrics.js";
import { keyPackageInstallationKey, MlsFramingError, parseGroupMessage } from "./mls.js";
import { KeyedSerializer, Notifier, SubscriptionFeed, type TopicKind } from "./notifier.js";
import { MAX_PAGE_SIZE, nextPaging, normalizePaging, SortDirection, type Page, type PagingOutput } from "./paging.js";
import {
  EMPTY,
  encode,
  IDENTITY_SERVICE,
  identityApi,
  MLS_SERVICE,
  mls,
  signatures,
  toBigInt,
  type Codec,
  type GetInboxIdsResponse,
  type Long,
} from "./proto.js";
import { invalidArgument, RpcError, Status } from "./rpc-error.js";
import { MonotonicClock, type GroupMessageRow, type Store, type WelcomeMessageRow } from "./store.js";
import { WireWriter } from "./wire.js";

/** The production node's batch limits (clients know them). */
const MAX_COMMIT_LOG_INSERTS = 10;
const MAX_COMMIT_LOG_QUERIES = 20;

/** WELCOME_WRAPPER_ALGORITHM_SYMMETRIC_KEY: a welcome pointee, which has no HPKE key. */
const WRAPPER_SYMMETRIC_KEY = 3;

export type MlsMessages = typeof mls;

/** Where a streaming handler writes; the transport implements it. */
export interface StreamSink {
  /** Response headers now (gRPC clients built on tonic wait for them before they return a stream). */
  sendHeaders(): void;
  write(message: Uint8Array): void;
  /** True once the client went away or the stream was ended. */
  readonly closed: boolean;
  /** Called when the client cancels; `fn` runs once. */
  onClose(fn: () => void): void;
}

export type UnaryHandler = (request: Buffer) => Promise<Uint8Array>;
export type StreamHandler = (request: Buffer, sink: StreamSink) => Promise<void>;

export interface MethodSpec {
  service: string;
  method: string;
  kind: "unary" | "serverStream" | "bidi";
  unary?: UnaryHandler;
  stream?: StreamHandler;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function decode<T>(codec: Codec<T>, bytes: Uint8Array, what: string): T {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw invalidArgument(`cannot decode ${what}: ${(err as Error).message}`);
  }
}

function unimplemented(what: string): UnaryHandler {
  return async () => {
    throw new RpcError(Status.UNIMPLEMENTED, what);
  };
}

function pagingProto(p: PagingOutput) {
  return { direction: p.direction, limit: p.limit, idCursor: p.idCursor.toString() };
}

function groupMessageProto(r: GroupMessageRow, includeContent = true) {
  return mls.GroupMessage.fromPartial({
    v1: {
      id: r.id.toString(),
      createdNs: r.createdNs.toString(),
      groupId: r.groupId,
      data: includeContent ? r.data : EMPTY,
      senderHmac: includeContent ? r.senderHmac : EMPTY,
      shouldPush: includeContent ? r.shouldPush : false,
      isCommit: r.isCommit,
    },
  });
}

function welcomeMessageProto(r: WelcomeMessageRow) {
  if (r.messageType === 1) {
    return mls.WelcomeMessage.fromPartial({
      welcomePointer: {
        id: r.id.toString(),
        createdNs: r.createdNs.toString(),
        installationKey: r.installationKey,
        welcomePointer: r.data,
        hpkePublicKey: r.hpkePublicKey,
        wrapperAlgorithm: r.wrapperAlgorithm,
      },
    });
  }
  return mls.WelcomeMessage.fromPartial({
    v1: {
      id: r.id.toString(),
      createdNs: r.createdNs.toString(),
      installationKey: r.installationKey,
      data: r.data,
      hpkePublicKey: r.hpkePublicKey,
      wrapperAlgorithm: r.wrapperAlgorithm,
      welcomeMetadata: r.welcomeMetadata,
    },
  });
}

function pageFrom(p: { direction: number; limit: number; idCursor: Long } | undefined): Page {
  return normalizePaging(p ? { direction: p.direction, limit: p.limit, idCursor: toBigInt(p.idCursor) } : undefined);
}

export interface DevnodeServiceOptions {
  store: Store;
  log: Logger;
  /** What it stores and relays is counted here (the transport counts the calls). */
  metrics: DevnodeMetrics;
}

/** All state of a running node except the transport. */
export class DevnodeService {
  private readonly store: Store;
  private readonly log: Logger;
  private readonly metrics: DevnodeMetrics;
  private readonly clock = new MonotonicClock();
  private readonly writes = new KeyedSerializer();
  private readonly groupTopics = new Notifier<GroupMessageRow>();
  private readonly welcomeTopics = new Notifier<WelcomeMessageRow>();
  private readonly streams = new Set<{ end(): void }>();
  private closing = false;

  constructor(opts: DevnodeServiceOptions) {
    this.store = opts.store;
    this.log = opts.log;
    this.metrics = opts.metrics;
  }

  /** Every method of both services, with its handler. */
  methods(): MethodSpec[] {
    const M = MLS_SERVICE;
    const I = IDENTITY_SERVICE;
    const u = (service: string, method: string, unary: UnaryHandler): MethodSpec => ({
      service,
      method,
      kind: "unary",
      unary: this.guard(unary),
    });
    return [
      u(M, "SendGroupMessages", (r) => this.sendGroupMessages(r)),
      u(M, "SendWelcomeMessages", (r) => this.sendWelcomeMessages(r)),
      u(M, "RegisterInstallation", (r) => this.registerInstallation(r)),
      u(M, "UploadKeyPackage", (r) => this.uploadKeyPackage(r)),
      u(M, "FetchKeyPackages", (r) => this.fetchKeyPackages(r)),
      u(M, "RevokeInstallation", unimplemented("RevokeInstallation is not implemented (as on the production node)")),
      u(
        M,
        "GetIdentityUpdates",
        unimplemented("MlsApi.GetIdentityUpdates is retired: use xmtp.identity.api.v1.IdentityApi/GetIdentityUpdates"),
      ),
      u(M, "QueryGroupMessages", (r) => this.queryGroupMessages(r)),
      u(M, "QueryWelcomeMessages", (r) => this.queryWelcomeMessages(r)),
      {
        service: M,
        method: "SubscribeGroupMessages",
        kind: "serverStream",
        stream: (r, s) => this.subscribeGroupMessages(r, s),
      },
      {
        service: M,
        method: "SubscribeWelcomeMessages",
        kind: "serverStream",
        stream: (r, s) => this.subscribeWelcomeMessages(r, s),
      },
      { service: M, method: "Subscribe", kind: "bidi" },
      u(M, "BatchPublishCommitLog", (r) => this.batchPublishCommitLog(r)),
      u(M, "BatchQueryCommitLog", (r) => this.batchQueryCommitLog(r)),
      u(M, "GetNewestGroupMessage", (r) => this.getNewestGroupMessage(r)),
      u(I, "PublishIdentityUpdate", (r) => this.publishIdentityUpdate(r)),
      u(I, "GetIdentityUpdates", (r) => this.getIdentityUpdates(r)),
      u(I, "GetInboxIds", (r) => this.getInboxIds(r)),
      u(I, "VerifySmartContractWalletSignatures", (r) => this.verifySmartContractWalletSignatures(r)),
    ];
  }

  private guard(handler: UnaryHandler): UnaryHandler {
    return async (request) => {
      if (this.closing) throw new RpcError(Status.UNAVAILABLE, "the devnode is shutting down");
      return handler(request);
    };
  }

  /**
   * Stops: new calls are refused, open subscriptions end with UNAVAILABLE (so
   * clients reconnect, to the node that replaces this one).
   */
  stop(): void {
    this.closing = true;
    for (const s of [...this.streams]) s.end();
  }

  /** Resolves when every write started so far is committed (and announced). */
  drained(): Promise<void> {
    return this.writes.idle();
  }

  // --- MlsApi: key packages --------------------------------------------------

  private installationKeyOf(keyPackage: Uint8Array | undefined): Uint8Array {
    if (!keyPackage || keyPackage.length === 0) throw invalidArgument("no key package");
    try {
      return keyPackageInstallationKey(keyPackage);
    } catch (err) {
      if (err instanceof MlsFramingError) throw invalidArgument(`invalid key package: ${err.message}`);
      throw err;
    }
  }

  private async registerInstallation(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.RegisterInstallationRequest, request, "RegisterInstallationRequest");
    const kp = req.keyPackage?.keyPackageTlsSerialized;
    const installationKey = this.installationKeyOf(kp);
    await this.store.putKeyPackage(installationKey, kp!, this.clock.nowNs());
    this.metrics.keyPackageStored();
    return encode(mls.RegisterInstallationResponse, { installationKey });
  }

  private async uploadKeyPackage(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.UploadKeyPackageRequest, request, "UploadKeyPackageRequest");
    const kp = req.keyPackage?.keyPackageTlsSerialized;
    const installationKey = this.installationKeyOf(kp);
    await this.store.putKeyPackage(installationKey, kp!, this.clock.nowNs());
    this.metrics.keyPackageStored();
    return EMPTY;
  }

  private async fetchKeyPackages(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.FetchKeyPackagesRequest, request, "FetchKeyPackagesRequest");
    const found = await this.store.keyPackagesOf(req.installationKeys);
    // One entry per requested installation, in order; an empty one where none is known.
    return encode(mls.FetchKeyPackagesResponse, {
      keyPackages: req.installationKeys.map((k) => ({ keyPackageTlsSerialized: found.get(hex(k)) ?? EMPTY })),
    });
  }

  // --- MlsApi: group messages ----------------------------------------------

  private async sendGroupMessages(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.SendGroupMessagesRequest, request, "SendGroupMessagesRequest");
    if (req.messages.length === 0) throw invalidArgument("no group messages to send");
    // Check every message before storing any.
    const parsed = req.messages.map((input, i) => {
      const v1 = input.v1;
      if (!v1) throw invalidArgument("invalid group message");
      if (v1.data.length === 0) throw invalidArgument("message is empty");
      try {
        return { v1, framing: parseGroupMessage(v1.data) };
      } catch (err) {
        if (err instanceof MlsFramingError) throw invalidArgument(`invalid group message ${i}: ${err.message}`);
        throw err;
      }
    });
    for (const { v1, framing } of parsed) {
      const topic = hex(framing.groupId);
      await this.writes.run(`group:${topic}`, async () => {
        const row = await this.store.insertGroupMessage({
          createdNs: this.clock.nowNs(),
          groupId: asBuffer(framing.groupId),
          data: asBuffer(v1.data),
          senderHmac: asBuffer(v1.senderHmac),
          shouldPush: v1.shouldPush,
          isCommit: framing.isCommit,
        });
        // null: the same message was stored before (a retry); nothing new to announce.
        if (!row) return;
        this.metrics.messageStored("group", row.data.length);
        this.groupTopics.publish(topic, row);
      });
    }
    return EMPTY;
  }

  private async queryGroupMessages(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.QueryGroupMessagesRequest, request, "QueryGroupMessagesRequest");
    if (req.groupId.length === 0) throw invalidArgument("group is required");
    const page = pageFrom(req.pagingInfo);
    const rows = await this.store.queryGroupMessages(req.groupId, page);
    return encode(
      mls.QueryGroupMessagesResponse,
      mls.QueryGroupMessagesResponse.fromPartial({
        messages: rows.map((r) => groupMessageProto(r)),
        pagingInfo: pagingProto(
          nextPaging(
            page,
            rows.map((r) => r.id),
          ),
        ),
      }),
    );
  }

  private async getNewestGroupMessage(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.GetNewestGroupMessageRequest, request, "GetNewestGroupMessageRequest");
    if (req.groupIds.length === 0) throw invalidArgument("no group ids provided");
    const newest = await this.store.newestGroupMessages(req.groupIds);
    return encode(mls.GetNewestGroupMessageResponse, {
      responses: req.groupIds.map((g) => {
        const row = newest.get(hex(g));
        return row ? { groupMessage: groupMessageProto(row, req.includeContent) } : {};
      }),
    });
  }

  // --- MlsApi: welcome messages --------------------------------------------

  private async sendWelcomeMessages(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.SendWelcomeMessagesRequest, request, "SendWelcomeMessagesRequest");
    if (req.messages.length === 0) throw invalidArgument("no welcome messages to send");
    const rows = req.messages.map((input): Omit<WelcomeMessageRow, "id" | "createdNs"> => {
      if (input.v1) {
        const v1 = input.v1;
        if (
          v1.data.length === 0 ||
          v1.installationKey.length === 0 ||
          (v1.hpkePublicKey.length === 0 && v1.wrapperAlgorithm !== WRAPPER_SYMMETRIC_KEY)
        ) {
          throw invalidArgument("invalid welcome message");
        }
        return {
          installationKey: asBuffer(v1.installationKey),
          messageType: 0,
          data: asBuffer(v1.data),
          hpkePublicKey: asBuffer(v1.hpkePublicKey),
          wrapperAlgorithm: v1.wrapperAlgorithm,
          welcomeMetadata: asBuffer(v1.welcomeMetadata),
        };
      }
      if (input.welcomePointer) {
        const p = input.welcomePointer;
        if (p.installationKey.length === 0 || p.welcomePointer.length === 0 || p.hpkePublicKey.length === 0) {
          throw invalidArgument("invalid welcome pointer message");
        }
        if (p.wrapperAlgorithm <= 0) throw invalidArgument("invalid welcome pointer wrapper algorithm");
        return {
          installationKey: asBuffer(p.installationKey),
          messageType: 1,
          data: asBuffer(p.welcomePointer),
          hpkePublicKey: asBuffer(p.hpkePublicKey),
          wrapperAlgorithm: p.wrapperAlgorithm,
          welcomeMetadata: Buffer.alloc(0),
        };
      }
      throw invalidArgument("invalid welcome message: missing version");
    });
    await Promise.all(
      rows.map((m) => {
        const topic = m.installationKey.toString("hex");
        return this.writes.run(`welcome:${topic}`, async () => {
          const row = await this.store.insertWelcomeMessage({ ...m, createdNs: this.clock.nowNs() });
          if (!row) return;
          this.metrics.messageStored("welcome", row.data.length);
          this.welcomeTopics.publish(topic, row);
        });
      }),
    );
    return EMPTY;
  }

  private async queryWelcomeMessages(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.QueryWelcomeMessagesRequest, request, "QueryWelcomeMessagesRequest");
    if (req.installationKey.length === 0) throw invalidArgument("installation is required");
    const page = pageFrom(req.pagingInfo);
    const rows = await this.store.queryWelcomeMessages(req.installationKey, page);
    return encode(
      mls.QueryWelcomeMessagesResponse,
      mls.QueryWelcomeMessagesResponse.fromPartial({
        messages: rows.map(welcomeMessageProto),
        pagingInfo: pagingProto(
          nextPaging(
            page,
            rows.map((r) => r.id),
          ),
        ),
      }),
    );
  }

  // --- MlsApi: subscriptions -----------------------------------------------

  /**
   * The common shape of both subscriptions: listen first, replay each topic
   * from its cursor (also from 0) in ascending pages, then deliver live.
   */
  private async subscribe<T extends { id: bigint }>(
    sink: StreamSink,
    what: TopicKind,
    filters: { topic: string; key: Uint8Array; cursor: bigint }[],
    notifier: Notifier<T>,
    query: (key: Uint8Array, page: Page) => Promise<T[]>,
    toProto: (row: T) => Uint8Array,
  ): Promise<void> {
    if (this.closing) throw new RpcError(Status.UNAVAILABLE, "the devnode is shutting down");
    // Several filters for one topic: the lowest cursor wins.
    const cursors = new Map<string, bigint>();
    const keys = new Map<string, Uint8Array>();
    for (const f of filters) {
      const c = cursors.get(f.topic);
      cursors.set(f.topic, c === undefined || f.cursor < c ? f.cursor : c);
      keys.set(f.topic, f.key);
    }
    sink.sendHeaders();
    const feed = new SubscriptionFeed<T>(cursors, (row) => {
      if (sink.closed) return;
      sink.write(toProto(row));
      this.metrics.messageRelayed(what);
    });
    const unsubscribe = notifier.subscribe([...cursors.keys()], (topic, row) => feed.live(topic, row));
    const closed = this.metrics.subscriptionOpened(what);
    const handle = { end: () => {} };
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      unsubscribe();
      closed();
      this.streams.delete(handle);
    };
    sink.onClose(finish);
    if (sink.closed) return finish();
    this.log.debug("subscription opened", { kind: what, topics: cursors.size });
    try {
      for (const [topic, key] of keys) {
        for (;;) {
          if (sink.closed) return finish();
          const page = normalizePaging({
            direction: SortDirection.Ascending,
            limit: MAX_PAGE_SIZE,
            idCursor: feed.cursor(topic),
          });
          const rows = await query(key, page);
          for (const row of rows) feed.history(topic, row);
          if (rows.length < page.limit) break;
        }
      }
    } catch (err) {
      finish();
      throw err;
    }
    feed.goLive();
    // Live from here until the client cancels or the node closes.
    return new Promise<void>((resolve, reject) => {
      handle.end = () => {
        finish();
        reject(new RpcError(Status.UNAVAILABLE, "the devnode is shutting down"));
      };
      this.streams.add(handle);
      // stop() came while the history was replayed: it could not see this one.
      if (this.closing) handle.end();
      sink.onClose(() => {
        finish();
        resolve();
      });
      if (sink.closed) {
        finish();
        resolve();
      }
    });
  }

  private async subscribeGroupMessages(request: Buffer, sink: StreamSink): Promise<void> {
    const req = decode(mls.SubscribeGroupMessagesRequest, request, "SubscribeGroupMessagesRequest");
    const filters = req.filters.map((f) => {
      if (f.groupId.length === 0) throw invalidArgument("a filter has an empty group id");
      return { topic: hex(f.groupId), key: f.groupId, cursor: toBigInt(f.idCursor) };
    });
    await this.subscribe(
      sink,
      "group",
      filters,
      this.groupTopics,
      (key, page) => this.store.queryGroupMessages(key, page),
      (row) => encode(mls.GroupMessage, groupMessageProto(row)),
    );
  }

  private async subscribeWelcomeMessages(request: Buffer, sink: StreamSink): Promise<void> {
    const req = decode(mls.SubscribeWelcomeMessagesRequest, request, "SubscribeWelcomeMessagesRequest");
    if (req.filters.length === 0) throw invalidArgument("no valid filters provided");
    const filters = req.filters.map((f) => {
      if (f.installationKey.length === 0) throw invalidArgument("a filter is nil or installation key is empty");
      return { topic: hex(f.installationKey), key: f.installationKey, cursor: toBigInt(f.idCursor) };
    });
    await this.subscribe(
      sink,
      "welcome",
      filters,
      this.welcomeTopics,
      (key, page) => this.store.queryWelcomeMessages(key, page),
      (row) => encode(mls.WelcomeMessage, welcomeMessageProto(row)),
    );
  }

  // --- MlsApi: commit log --------------------------------------------------

  private async batchPublishCommitLog(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.BatchPublishCommitLogRequest, request, "BatchPublishCommitLogRequest");
    if (req.requests.length === 0) throw invalidArgument("no log entries to publish");
    if (req.requests.length > MAX_COMMIT_LOG_INSERTS) {
      throw invalidArgument(`cannot exceed ${MAX_COMMIT_LOG_INSERTS} inserts in single batch`);
    }
    for (const e of req.requests) {
      if (e.groupId.length === 0 || e.serializedCommitLogEntry.length === 0 || !e.signature) {
        throw invalidArgument("invalid commit log entry");
      }
    }
    for (const e of req.requests) {
      const signature = signatures.RecoverableEd25519Signature.encode(e.signature!).finish();
      await this.writes.run(`commit-log:${hex(e.groupId)}`, () =>
        this.store.insertCommitLogEntry(e.groupId, e.serializedCommitLogEntry, signature, this.clock.nowNs()),
      );
    }
    return EMPTY;
  }

  private async batchQueryCommitLog(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.BatchQueryCommitLogRequest, request, "BatchQueryCommitLogRequest");
    if (req.requests.length === 0) throw invalidArgument("no requests to query");
    if (req.requests.length > MAX_COMMIT_LOG_QUERIES) {
      throw invalidArgument(`cannot exceed ${MAX_COMMIT_LOG_QUERIES} queries in single batch`);
    }
    const responses = [];
    for (const q of req.requests) {
      if (q.groupId.length === 0) throw invalidArgument("invalid request");
      if (q.pagingInfo?.direction === SortDirection.Descending) {
        throw invalidArgument("descending direction is not supported");
      }
      const limit =
        q.pagingInfo && q.pagingInfo.limit > 0 && q.pagingInfo.limit <= MAX_PAGE_SIZE
          ? q.pagingInfo.limit
          : MAX_PAGE_SIZE;
      const rows = await this.store.queryCommitLog(q.groupId, toBigInt(q.pagingInfo?.idCursor), limit);
      responses.push({
        groupId: q.groupId,
        commitLogEntries: rows.map((r) => ({
          sequenceId: r.id.toString(),
          serializedCommitLogEntry: r.serializedEntry,
          signature: signatures.RecoverableEd25519Signature.decode(r.serializedSignature),
        })),
        pagingInfo: {
          direction: SortDirection.Ascending,
          limit,
          idCursor: rows.length >= limit ? rows[rows.length - 1]!.id.toString() : "0",
        },
      });
    }
    return encode(mls.BatchQueryCommitLogResponse, mls.BatchQueryCommitLogResponse.fromPartial({ responses }));
  }

  // --- IdentityApi -----------------------------------------------------------

  private async publishIdentityUpdate(request: Buffer): Promise<Uint8Array> {
    const parsed = parsePublishIdentityUpdateRequest(request);
    const sequenceId = await this.writes.run(`inbox:${parsed.inboxId}`, () =>
      this.store.appendIdentityUpdate(
        parsed.inboxId,
        parsed.raw,
        parsed.createsInbox,
        parsed.addressChanges,
        this.clock.nowNs(),
      ),
    );
    this.metrics.identityUpdateStored();
    this.log.debug("identity update stored", { inboxId: parsed.inboxId, sequenceId: sequenceId.toString() });
    return EMPTY;
  }

  /**
   * GetIdentityUpdatesResponse, encoded by hand so that each IdentityUpdate
   * goes out as the exact bytes that were published:
   *   responses (1): { inbox_id (1), updates (2): { sequence_id (1), server_timestamp_ns (2), update (3) } }
   */
  private async getIdentityUpdates(request: Buffer): Promise<Uint8Array> {
    const req = decode(identityApi.GetIdentityUpdatesRequest, request, "GetIdentityUpdatesRequest");
    const wanted = req.requests.map((r) => ({ inboxId: r.inboxId, after: toBigInt(r.sequenceId) }));
    const inboxIds = [...new Set(wanted.map((w) => w.inboxId))];
    const minAfter = wanted.reduce((m, w) => (w.after < m ? w.after : m), wanted[0]?.after ?? 0n);
    const rows = await this.store.identityUpdatesSince(inboxIds, minAfter);
    const out = new WireWriter();
    for (const w of wanted) {
      const response = new WireWriter().string(1, w.inboxId);
      for (const row of rows) {
        if (row.inboxId !== w.inboxId || row.sequenceId <= w.after) continue;
        const log = new WireWriter()
          .uint64(1, row.sequenceId)
          .uint64(2, row.serverTimestampNs)
          .bytes(3, row.updateBytes)
          .finish();
        response.bytes(2, log);
      }
      out.bytes(1, response.finish());
    }
    return out.finish();
  }

  private async getInboxIds(request: Buffer): Promise<Uint8Array> {
    const req = decode(identityApi.GetInboxIdsRequest, request, "GetInboxIdsRequest");
    // Only Ethereum addresses are in the address map, as on the production node.
    const addresses = req.requests
      .filter((r) => isEthereumKind(r.identifierKind))
      .map((r) => normalizeAddress(r.identifier));
    const found = await this.store.inboxIdsOf([...new Set(addresses)]);
    const response: GetInboxIdsResponse = {
      responses: req.requests.map((r) => {
        const inboxId = isEthereumKind(r.identifierKind) ? found.get(normalizeAddress(r.identifier)) : undefined;
        return { identifier: r.identifier, identifierKind: r.identifierKind, ...(inboxId ? { inboxId } : {}) };
      }),
    };
    return encode(identityApi.GetInboxIdsResponse, response);
  }

  private async verifySmartContractWalletSignatures(request: Buffer): Promise<Uint8Array> {
    const req = decode(
      identityApi.VerifySmartContractWalletSignaturesRequest,
      request,
      "VerifySmartContractWalletSignaturesRequest",
    );
    // There is no chain here to ask: every smart-contract wallet signature is reported as not verified.
    return encode(identityApi.VerifySmartContractWalletSignaturesResponse, {
      responses: req.signatures.map(() => ({
        isValid: false,
        error: "the local devnode has no blockchain: smart-contract wallet signatures cannot be verified",
      })),
    });
  }
}
