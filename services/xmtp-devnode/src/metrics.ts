/**
 * The node's Prometheus metrics, on the kit's `Metrics` (one registry,
 * labelled `pool_service="xmtp-devnode"`, with the process's own figures):
 * every RPC counted and timed by service, method and code under the same
 * names as the pool's Connect services (`pool_rpc_requests_total`,
 * `pool_rpc_duration_seconds`; a subscription when it ends), and what the
 * node stores and relays. Served by `startDevnode({ metricsPort })`;
 * docs/runbook.md lists them and the alerts.
 */
import { codeLabel, Metrics } from "@convos-pool/kit/server";
import type { TopicKind } from "./notifier.js";
import type { Status } from "./rpc-error.js";

const KINDS: readonly TopicKind[] = ["group", "welcome"];

export class DevnodeMetrics {
  readonly metrics = new Metrics("xmtp-devnode");
  private readonly published = this.metrics.counter(
    "xmtp_devnode_messages_published_total",
    "Messages stored, by kind (group, welcome); a resent identical message is stored, and counted, once.",
    ["kind"],
  );
  private readonly publishedBytes = this.metrics.counter(
    "xmtp_devnode_published_bytes_total",
    "Payload bytes of the messages stored (the MLS ciphertext, or the welcome pointer), by kind.",
    ["kind"],
  );
  private readonly relayed = this.metrics.counter(
    "xmtp_devnode_messages_relayed_total",
    "Messages written to subscriptions (replayed history and live), by kind.",
    ["kind"],
  );
  private readonly identityUpdates = this.metrics.counter(
    "xmtp_devnode_identity_updates_total",
    "Identity updates stored.",
    [],
  );
  private readonly keyPackages = this.metrics.counter(
    "xmtp_devnode_key_packages_total",
    "Key packages stored (RegisterInstallation and UploadKeyPackage).",
    [],
  );
  private readonly open = new Map<TopicKind, number>(KINDS.map((kind) => [kind, 0]));

  constructor() {
    // Each kind from 0, so that a rate of none is 0 rather than no series (the runbook's alerts compare with 0).
    for (const kind of KINDS) {
      for (const counter of [this.published, this.publishedBytes, this.relayed]) counter.inc({ kind }, 0);
    }
    this.metrics.gauge("xmtp_devnode_subscriptions", "Subscriptions open now, by kind.", ["kind"], async (set) => {
      for (const [kind, n] of this.open) set({ kind }, n);
    });
  }

  /** One call ended with `code`; `service` and `method` as in the gRPC path. */
  rpc(service: string, method: string, code: Status, seconds: number): void {
    const labels = { service, method, code: codeLabel(code) };
    this.metrics.rpcs.inc(labels);
    this.metrics.rpcSeconds.observe(labels, seconds);
  }

  messageStored(kind: TopicKind, bytes: number): void {
    this.published.inc({ kind });
    this.publishedBytes.inc({ kind }, bytes);
  }

  messageRelayed(kind: TopicKind): void {
    this.relayed.inc({ kind });
  }

  identityUpdateStored(): void {
    this.identityUpdates.inc();
  }

  keyPackageStored(): void {
    this.keyPackages.inc();
  }

  /** A subscription opened; call the returned function once when it ends. */
  subscriptionOpened(kind: TopicKind): () => void {
    this.open.set(kind, (this.open.get(kind) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.open.set(kind, (this.open.get(kind) ?? 0) - 1);
    };
  }
}
