/**
 * The RPCs of `xmtp.mls.api.v1.MlsApi` (mls-api.ts) and
 * `xmtp.identity.api.v1.IdentityApi` (identity-api.ts), transport-independent:
 * each unary handler takes the request bytes and returns the response bytes;
 * each streaming handler writes to a sink (methods.ts).
 *
 * Behaviour follows the production node (xmtp-node-go) where the SDK can see
 * it: validation messages and codes, paging, idempotent sends, newest-message
 * metadata, the commit log's ascending-only queries. What the production node
 * delegates to its MLS validation service (signature checks, MLS validation)
 * is not done: see docs/xmtp-devnode.md.
 */
import type { Logger } from "@convos-pool/kit/server";
import type { NodeContext } from "./context.js";
import { IdentityApi } from "./identity-api.js";
import type { DevnodeMetrics } from "./metrics.js";
import type { MethodSpec, UnaryHandler } from "./methods.js";
import { MlsApi } from "./mls-api.js";
import { KeyedSerializer, Notifier } from "./notifier.js";
import { IDENTITY_SERVICE, MLS_SERVICE } from "./proto.js";
import { RpcError, Status } from "./rpc-error.js";
import { MonotonicClock, type GroupMessageRow, type Store, type WelcomeMessageRow } from "./store.js";
import { Subscriptions } from "./subscriptions.js";

export type { MethodSpec, StreamHandler, StreamSink, UnaryHandler } from "./methods.js";

function unimplemented(what: string): UnaryHandler {
  return async () => {
    throw new RpcError(Status.UNIMPLEMENTED, what);
  };
}

export interface DevnodeServiceOptions {
  store: Store;
  log: Logger;
  /** What it stores and relays is counted here (the transport counts the calls). */
  metrics: DevnodeMetrics;
  /** The most subscriptions at once (subscriptions.ts; 0: no limit); default DEFAULT_MAX_STREAMS. */
  maxStreams?: number | undefined;
}

/** All state of a running node except the transport. */
export class DevnodeService {
  private readonly node: NodeContext;
  private readonly mlsApi: MlsApi;
  private readonly identityApi: IdentityApi;
  private closing = false;

  constructor(opts: DevnodeServiceOptions) {
    this.node = {
      store: opts.store,
      log: opts.log,
      metrics: opts.metrics,
      clock: new MonotonicClock(),
      writes: new KeyedSerializer(),
      groupTopics: new Notifier<GroupMessageRow>(),
      welcomeTopics: new Notifier<WelcomeMessageRow>(),
      subscriptions: new Subscriptions(opts.log, opts.metrics, opts.maxStreams),
    };
    this.mlsApi = new MlsApi(this.node);
    this.identityApi = new IdentityApi(this.node);
  }

  /** Every method of both services, with its handler. */
  methods(): MethodSpec[] {
    const M = MLS_SERVICE;
    const I = IDENTITY_SERVICE;
    const mls = this.mlsApi;
    const identity = this.identityApi;
    const u = (service: string, method: string, unary: UnaryHandler): MethodSpec => ({
      service,
      method,
      kind: "unary",
      unary: this.guard(unary),
    });
    return [
      u(M, "SendGroupMessages", (r) => mls.sendGroupMessages(r)),
      u(M, "SendWelcomeMessages", (r) => mls.sendWelcomeMessages(r)),
      u(M, "RegisterInstallation", (r) => mls.registerInstallation(r)),
      u(M, "UploadKeyPackage", (r) => mls.uploadKeyPackage(r)),
      u(M, "FetchKeyPackages", (r) => mls.fetchKeyPackages(r)),
      u(M, "RevokeInstallation", unimplemented("RevokeInstallation is not implemented (as on the production node)")),
      u(
        M,
        "GetIdentityUpdates",
        unimplemented("MlsApi.GetIdentityUpdates is retired: use xmtp.identity.api.v1.IdentityApi/GetIdentityUpdates"),
      ),
      u(M, "QueryGroupMessages", (r) => mls.queryGroupMessages(r)),
      u(M, "QueryWelcomeMessages", (r) => mls.queryWelcomeMessages(r)),
      {
        service: M,
        method: "SubscribeGroupMessages",
        kind: "serverStream",
        stream: (r, s) => mls.subscribeGroupMessages(r, s),
      },
      {
        service: M,
        method: "SubscribeWelcomeMessages",
        kind: "serverStream",
        stream: (r, s) => mls.subscribeWelcomeMessages(r, s),
      },
      { service: M, method: "Subscribe", kind: "bidi" },
      u(M, "BatchPublishCommitLog", (r) => mls.batchPublishCommitLog(r)),
      u(M, "BatchQueryCommitLog", (r) => mls.batchQueryCommitLog(r)),
      u(M, "GetNewestGroupMessage", (r) => mls.getNewestGroupMessage(r)),
      u(I, "PublishIdentityUpdate", (r) => identity.publishIdentityUpdate(r)),
      u(I, "GetIdentityUpdates", (r) => identity.getIdentityUpdates(r)),
      u(I, "GetInboxIds", (r) => identity.getInboxIds(r)),
      u(I, "VerifySmartContractWalletSignatures", (r) => identity.verifySmartContractWalletSignatures(r)),
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
    this.node.subscriptions.stop();
  }

  /** Resolves when every write started so far is committed (and announced). */
  drained(): Promise<void> {
    return this.node.writes.idle();
  }
}
