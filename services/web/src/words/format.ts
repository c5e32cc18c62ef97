// How the app writes the pool's values for people.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { InstanceState, SyncState, type Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { Provisioning, type TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { trustLevelName } from "@convos-pool/kit/browser";
import { formatEther } from "viem";
import { TemplateStatus, Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { dateTime, dateTimeAndFromNow } from "./words";

/** An inbox or conversation id, shortened: the whole one is in the title attribute. */
export function short(id: string): string {
  return id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id || "—";
}

/** Who is signed in, as the header says it: the name their Convos profile gave with their code, else their short inbox. */
export function signedInAs(name: string | undefined, inboxId: string): string {
  return name?.trim() || short(inboxId);
}

/** A timestamp as people write it ("today, 10:02", "28 Nov, 03:40"; words.ts). */
export function when(t: Timestamp | undefined): string {
  if (!t) return "—";
  return dateTime(new Date(Number(t.seconds) * 1000));
}

export const visibilityName = (v: Visibility) => (v === Visibility.PUBLIC ? "public" : "private");
export const statusName = (s: TemplateStatus) => (s === TemplateStatus.ARCHIVED ? "archived" : "active");
export const provisioningName = (p: Provisioning) =>
  p === Provisioning.POOL ? "pool" : p === Provisioning.USER ? "user" : "—";

export function stateName(s: InstanceState): string {
  return (
    (
      {
        [InstanceState.STARTING]: "starting",
        [InstanceState.IDLE]: "idle",
        [InstanceState.CLAIMING]: "joining",
        [InstanceState.CLAIMED]: "live",
        [InstanceState.CRASHED]: "crashed",
        [InstanceState.DEAD]: "ended",
      } as Record<number, string>
    )[s] ?? "unknown"
  );
}

/**
 * A template's version as the store writes it ("v2"), and, when publishing or
 * archiving raised it past its last change of instructions, the version its
 * agents name (their statement's "Trip Planner v1", docs/statement.md).
 */
export function templateVersionWords(t: { version: bigint; contentVersion: bigint }): string {
  if (t.contentVersion === 0n || t.contentVersion === t.version) return `v${t.version}`;
  return `v${t.version} (its instructions are v${t.contentVersion}'s: agents on it say v${t.contentVersion})`;
}

/** The template an agent runs, as its statement names it: "Trip Planner v1" (the instructions' version it applied). */
export function runsWords(i: Instance): string {
  const name = i.agentName || i.templateId;
  return i.sync && i.sync.appliedVersion > 0n ? `${name} v${i.sync.appliedVersion}` : name;
}

/** The sync state as the dashboard shows it: applied, pending, failed (with its reason), pinned. */
export function syncName(i: Instance): string {
  const s = i.sync;
  if (!s) return "—";
  switch (s.state) {
    case SyncState.CURRENT:
      return `applied v${s.appliedVersion}`;
    case SyncState.PENDING:
      return `pending v${s.pendingVersion} (has v${s.appliedVersion})`;
    case SyncState.FAILED:
      return `failed at v${s.pendingVersion}: ${s.error || "no reason given"}`;
    case SyncState.PINNED:
      return `pinned at v${s.appliedVersion}`;
    default:
      return "—";
  }
}

/**
 * What an owner is told when their agent's conversation is in a staged
 * rollout of its template (docs/rollouts.md): which version the creator is
 * trying, that the pool stops it if people do worse with it, and what a pin
 * does now. Undefined outside one.
 */
export function rolloutNote(i: Instance): string | undefined {
  const s = i.sync;
  if (!s?.inRollout || s.rolloutVersion === 0n) return undefined;
  const on = s.appliedVersion === s.rolloutVersion;
  return (
    `Its creator is trying version ${s.rolloutVersion} in a share of conversations first, this one among them; ` +
    "the pool stops the trial if people do worse with it. " +
    (on
      ? `It runs version ${s.rolloutVersion} now: pinning keeps it there.`
      : `It still runs version ${s.appliedVersion}: pin it to stay there.`)
  );
}

/** "L1" to "L4"; "—" for an agent claimed before trust levels. */
export const trustName = (level: TrustLevel) => trustLevelName(level) || "—";

/** Wei (a decimal string) in ETH: "50000000000000000" is "0.05". Exact: for forms and records. */
export function eth(wei: string): string {
  return /^\d+$/.test(wei) ? formatEther(BigInt(wei)) : wei;
}

/**
 * Wei in ETH as a person reads a balance: to 4 decimals, or 2 significant
 * digits below 0.001, rounded to the nearest ("0.509876543210987654" is
 * "0.5099", "0.0000123456" is "0.000012"); exact amounts stay in `eth`.
 */
export function ethRounded(wei: bigint): string {
  if (wei === 0n) return "0";
  const unit = 10n ** 18n;
  const small = wei < unit / 1000n;
  // The decimals kept: 4, or as many as reach the second significant digit (18 at most: a wei).
  let decimals = 4;
  while (small && decimals < 18 && wei * 10n ** BigInt(decimals) < unit * 10n) decimals++;
  const step = 10n ** BigInt(18 - decimals);
  return formatEther(((wei + step / 2n) / step) * step);
}

/**
 * Why the caller may not rate yet, with the moment they may in their own
 * terms: the service's reason ends on the machine's date when it has one.
 */
export function whyNotRate(reason: string, from: Timestamp | undefined): string {
  if (!from) return reason;
  const at = new Date(Number(from.seconds) * 1000);
  const words = reason.replace(/:\s*you may rate from \S+$/, "");
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}: you may rate from ${dateTimeAndFromNow(at)}.`;
}
