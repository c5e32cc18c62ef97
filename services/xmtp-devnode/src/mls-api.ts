/**
 * The handlers of `xmtp.mls.api.v1.MlsApi`: key packages, group messages,
 * welcomes, their subscriptions and the commit log. Each takes the request's
 * bytes and returns the response's (a subscription writes to a sink); what a
 * request may hold and how rows become messages is in mls-shapes.ts.
 */
import type { NodeContext } from "./context.js";
import type { StreamSink } from "./methods.js";
import { keyPackageInstallationKey, MlsFramingError } from "./mls.js";
import {
  checkCommitLogEntries,
  checkCommitLogQueries,
  commitLogPaging,
  commitLogQueryOf,
  groupMessageProto,
  groupMessagesOf,
  pageFrom,
  pagingProto,
  welcomeMessageProto,
  welcomeRowOf,
} from "./mls-shapes.js";
import { nextPaging } from "./paging.js";
import { EMPTY, encode, mls, signatures, toBigInt } from "./proto.js";
import { asBuffer, decode, hex } from "./request.js";
import { invalidArgument } from "./rpc-error.js";

export class MlsApi {
  constructor(private readonly node: NodeContext) {}

  // --- key packages ----------------------------------------------------------

  /**
   * Stores a key package under the installation key it holds, and returns
   * that key; INVALID_ARGUMENT when there is none or it cannot be read.
   */
  private async storeKeyPackage(keyPackage: Uint8Array | undefined): Promise<Uint8Array> {
    if (!keyPackage || keyPackage.length === 0) throw invalidArgument("no key package");
    let installationKey: Uint8Array;
    try {
      installationKey = keyPackageInstallationKey(keyPackage);
    } catch (err) {
      if (err instanceof MlsFramingError) throw invalidArgument(`invalid key package: ${err.message}`);
      throw err;
    }
    await this.node.store.putKeyPackage(installationKey, keyPackage, this.node.clock.nowNs());
    this.node.metrics.keyPackageStored();
    return installationKey;
  }

  async registerInstallation(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.RegisterInstallationRequest, request, "RegisterInstallationRequest");
    const installationKey = await this.storeKeyPackage(req.keyPackage?.keyPackageTlsSerialized);
    return encode(mls.RegisterInstallationResponse, { installationKey });
  }

  async uploadKeyPackage(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.UploadKeyPackageRequest, request, "UploadKeyPackageRequest");
    await this.storeKeyPackage(req.keyPackage?.keyPackageTlsSerialized);
    return EMPTY;
  }

  async fetchKeyPackages(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.FetchKeyPackagesRequest, request, "FetchKeyPackagesRequest");
    const found = await this.node.store.keyPackagesOf(req.installationKeys);
    // One entry per requested installation, in order; an empty one where none is known.
    return encode(mls.FetchKeyPackagesResponse, {
      keyPackages: req.installationKeys.map((k) => ({ keyPackageTlsSerialized: found.get(hex(k)) ?? EMPTY })),
    });
  }

  // --- group messages --------------------------------------------------------

  async sendGroupMessages(request: Buffer): Promise<Uint8Array> {
    const { store, clock, writes, metrics, groupTopics } = this.node;
    const req = decode(mls.SendGroupMessagesRequest, request, "SendGroupMessagesRequest");
    // Check every message before storing any.
    for (const { v1, framing } of groupMessagesOf(req.messages)) {
      const topic = hex(framing.groupId);
      await writes.run(`group:${topic}`, async () => {
        const row = await store.insertGroupMessage({
          createdNs: clock.nowNs(),
          groupId: asBuffer(framing.groupId),
          data: asBuffer(v1.data),
          senderHmac: asBuffer(v1.senderHmac),
          shouldPush: v1.shouldPush,
          isCommit: framing.isCommit,
        });
        // null: the same message was stored before (a retry); nothing new to announce.
        if (!row) return;
        metrics.messageStored("group", row.data.length);
        groupTopics.publish(topic, row);
      });
    }
    return EMPTY;
  }

  async queryGroupMessages(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.QueryGroupMessagesRequest, request, "QueryGroupMessagesRequest");
    if (req.groupId.length === 0) throw invalidArgument("group is required");
    const page = pageFrom(req.pagingInfo);
    const rows = await this.node.store.queryGroupMessages(req.groupId, page);
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

  async getNewestGroupMessage(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.GetNewestGroupMessageRequest, request, "GetNewestGroupMessageRequest");
    if (req.groupIds.length === 0) throw invalidArgument("no group ids provided");
    const newest = await this.node.store.newestGroupMessages(req.groupIds);
    return encode(mls.GetNewestGroupMessageResponse, {
      responses: req.groupIds.map((g) => {
        const row = newest.get(hex(g));
        return row ? { groupMessage: groupMessageProto(row, req.includeContent) } : {};
      }),
    });
  }

  // --- welcome messages ------------------------------------------------------

  async sendWelcomeMessages(request: Buffer): Promise<Uint8Array> {
    const { store, clock, writes, metrics, welcomeTopics } = this.node;
    const req = decode(mls.SendWelcomeMessagesRequest, request, "SendWelcomeMessagesRequest");
    if (req.messages.length === 0) throw invalidArgument("no welcome messages to send");
    const rows = req.messages.map(welcomeRowOf);
    await Promise.all(
      rows.map((m) => {
        const topic = m.installationKey.toString("hex");
        return writes.run(`welcome:${topic}`, async () => {
          const row = await store.insertWelcomeMessage({ ...m, createdNs: clock.nowNs() });
          if (!row) return;
          metrics.messageStored("welcome", row.data.length);
          welcomeTopics.publish(topic, row);
        });
      }),
    );
    return EMPTY;
  }

  async queryWelcomeMessages(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.QueryWelcomeMessagesRequest, request, "QueryWelcomeMessagesRequest");
    if (req.installationKey.length === 0) throw invalidArgument("installation is required");
    const page = pageFrom(req.pagingInfo);
    const rows = await this.node.store.queryWelcomeMessages(req.installationKey, page);
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

  // --- subscriptions ---------------------------------------------------------

  async subscribeGroupMessages(request: Buffer, sink: StreamSink): Promise<void> {
    const req = decode(mls.SubscribeGroupMessagesRequest, request, "SubscribeGroupMessagesRequest");
    const filters = req.filters.map((f) => {
      if (f.groupId.length === 0) throw invalidArgument("a filter has an empty group id");
      return { topic: hex(f.groupId), key: f.groupId, cursor: toBigInt(f.idCursor) };
    });
    await this.node.subscriptions.serve(
      sink,
      "group",
      filters,
      this.node.groupTopics,
      (key, page) => this.node.store.queryGroupMessages(key, page),
      (row) => encode(mls.GroupMessage, groupMessageProto(row)),
    );
  }

  async subscribeWelcomeMessages(request: Buffer, sink: StreamSink): Promise<void> {
    const req = decode(mls.SubscribeWelcomeMessagesRequest, request, "SubscribeWelcomeMessagesRequest");
    if (req.filters.length === 0) throw invalidArgument("no valid filters provided");
    const filters = req.filters.map((f) => {
      if (f.installationKey.length === 0) throw invalidArgument("a filter is nil or installation key is empty");
      return { topic: hex(f.installationKey), key: f.installationKey, cursor: toBigInt(f.idCursor) };
    });
    await this.node.subscriptions.serve(
      sink,
      "welcome",
      filters,
      this.node.welcomeTopics,
      (key, page) => this.node.store.queryWelcomeMessages(key, page),
      (row) => encode(mls.WelcomeMessage, welcomeMessageProto(row)),
    );
  }

  // --- commit log ------------------------------------------------------------

  async batchPublishCommitLog(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.BatchPublishCommitLogRequest, request, "BatchPublishCommitLogRequest");
    for (const e of checkCommitLogEntries(req.requests)) {
      const signature = signatures.RecoverableEd25519Signature.encode(e.signature).finish();
      await this.node.writes.run(`commit-log:${hex(e.groupId)}`, () =>
        this.node.store.insertCommitLogEntry(e.groupId, e.serializedCommitLogEntry, signature, this.node.clock.nowNs()),
      );
    }
    return EMPTY;
  }

  async batchQueryCommitLog(request: Buffer): Promise<Uint8Array> {
    const req = decode(mls.BatchQueryCommitLogRequest, request, "BatchQueryCommitLogRequest");
    checkCommitLogQueries(req.requests);
    const responses = [];
    for (const q of req.requests) {
      const { groupId, after, limit } = commitLogQueryOf(q);
      const rows = await this.node.store.queryCommitLog(groupId, after, limit);
      responses.push({
        groupId,
        commitLogEntries: rows.map((r) => ({
          sequenceId: r.id.toString(),
          serializedCommitLogEntry: r.serializedEntry,
          signature: signatures.RecoverableEd25519Signature.decode(r.serializedSignature),
        })),
        pagingInfo: commitLogPaging(
          rows.map((r) => r.id),
          limit,
        ),
      });
    }
    return encode(mls.BatchQueryCommitLogResponse, mls.BatchQueryCommitLogResponse.fromPartial({ responses }));
  }
}
