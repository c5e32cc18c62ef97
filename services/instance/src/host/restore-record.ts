// What a restore takes of an opened state beyond its opening (docs/scaling.md,
// "Only what the pool signed"), pure: the checks of restore.ts against the
// pool's record of the agent (RestoreRecord), which the claims service hands
// with the state.
//
// A host holds its agents' keys, so a broken one can seal its own agent's
// state with any owner, trust level or permissions, at a sequence above the
// newest mark (it signs marks too); restored elsewhere, that state would
// outlive the host. So the state's owner, trust level, daily limit and
// permissions must be the pool's record's, which only the owner's signed
// calls change. A state whose owner differs is taken only with the signed
// transfers (offer and acceptance, kept in its config.json for its birth
// certificate) that lead from the pool's owner to it, accepted since the
// pool's record of that owner began: a transfer the agent took just before
// its host was lost, which the pool had no time to record. Where the trust
// or the permissions differ, the state carries no signature for the change:
// the agent comes back at the lower of the two, field by field (`lowerTrust`),
// so that neither a broken host (the state) nor a broken claims service (the
// record) raises what the agent may do, and an owner's change the pool
// recorded a moment before the host was lost does not leave the agent
// unrestorable; the owner signs again to raise it.
//
// And a state no high-water mark names is taken only when the pool can date
// it: it says when it was sealed, before the vault kept it, and the vault
// kept it while the pool still saw its host answer (docs/decisions.md).
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import type { TransferProof } from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import { TransferProofSchema } from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ApprovalPlace, Grant, OutsiderReply } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { RestoreRecord } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import {
  failedPrecondition,
  INBOX_ID_PATTERN,
  invalidArgument,
  permissionNames,
  resolvePermissions,
  type ResolvedPermissions,
  SIGNATURE_MAX_AGE_SECONDS,
  trustLevelName,
} from "@convos-pool/kit/content";
import { FILES } from "../platform/workspace.js";
import type { TrustFile } from "../tools/trust/levels.js";

/**
 * How far apart the pool's clock and a host's may be, and how long after the
 * pool's last pass a host may still have sent a state (passes come every 5 s).
 */
export const RECORD_CLOCK_ALLOWANCE_MS = 5 * 60_000;

/** One change of owner the state carries, to be checked against the network (restore.ts). */
export interface TransferLink {
  /** Its place in config.json's `transfers`, for the error. */
  index: number;
  from: string;
  to: string;
  offer: Signature | undefined;
  acceptance: Signature | undefined;
}

/** The request's record, there and well formed; INVALID_ARGUMENT naming the field otherwise. */
export function requireRecord(record: RestoreRecord | undefined): RestoreRecord {
  if (!record) throw invalidArgument("record", "required: the pool's record of the agent (its owner, trust and dates)");
  if (!INBOX_ID_PATTERN.test(record.ownerId))
    throw invalidArgument("record.owner_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
  if (!/^\d{0,78}$/.test(record.dailySpendLimitWei))
    throw invalidArgument("record.daily_spend_limit_wei", "must be a whole number of wei (decimal digits)");
  return record;
}

/**
 * Refuses a state no mark names unless the pool can date it: sealed
 * (`sealedAt`, the sealing host's word inside the sealed bytes) no later than
 * the vault kept it, and kept no later than the pool last saw its host
 * answer, each within RECORD_CLOCK_ALLOWANCE_MS.
 */
export function checkDated(sealedAt: string | undefined, record: RestoreRecord): void {
  const sealed = sealedAt === undefined ? Number.NaN : Date.parse(sealedAt);
  if (Number.isNaN(sealed)) {
    throw failedPrecondition(
      "state.sealed_at: the sealed state says not when it was sealed (sealed before states were dated) and no mark names it: nothing says how old it is; nothing restored",
    );
  }
  const kept = dateOf(record.stateKeptAt, "record.state_kept_at");
  const seen = dateOf(record.hostSeenAt, "record.host_seen_at");
  if (sealed > kept.getTime() + RECORD_CLOCK_ALLOWANCE_MS) {
    throw failedPrecondition(
      `state.sealed_at: sealed at ${new Date(sealed).toISOString()}, after the pool kept it (${kept.toISOString()}): not the state the pool dated; nothing restored`,
    );
  }
  if (kept.getTime() > seen.getTime() + RECORD_CLOCK_ALLOWANCE_MS) {
    throw failedPrecondition(
      `record.state_kept_at: kept at ${kept.toISOString()}, after the pool last saw its host (${seen.toISOString()}): a state its host sent while the pool no longer saw it, and no mark names it; nothing restored`,
    );
  }
}

function dateOf(t: Timestamp | undefined, field: string): Date {
  if (!t) throw invalidArgument(field, "required to date a state no mark names");
  return timestampDate(t);
}

/** What a restore reads of a state's config.json. */
interface OwnerFacts {
  ownerId?: unknown;
  transfers?: unknown;
}

/**
 * The transfers to check before a state of another owner is taken: none when
 * the state's owner is the pool's; else the signed links from the pool's
 * owner to the state's, the first accepted since the pool's record of that
 * owner began (within a signature's window and the clock allowance: the
 * pool records an owner just after the agent takes them). Refused otherwise,
 * naming `state.owner_id`.
 */
export function planOwner(files: Readonly<Record<string, string>>, record: RestoreRecord): TransferLink[] {
  const config = parse<OwnerFacts>(files[FILES.config], "state.owner_id");
  const owner = typeof config?.ownerId === "string" ? config.ownerId : "";
  if (owner === record.ownerId) return [];
  const refuse = (why: string) =>
    failedPrecondition(
      `state.owner_id: the sealed state names owner ${owner || "none"}, the pool's record ${record.ownerId}, ${why}; nothing restored`,
    );
  let transfers: TransferProof[];
  try {
    transfers = (Array.isArray(config?.transfers) ? config.transfers : []).map((t) =>
      fromJson(TransferProofSchema, t as JsonValue),
    );
  } catch {
    throw refuse("and its transfers do not read");
  }
  const start = transfers.findLastIndex((t) => t.fromOwnerId === record.ownerId);
  if (start < 0) throw refuse(`and carries no transfer from ${record.ownerId}`);
  const links = transfers.slice(start).map((t, i) => ({
    index: start + i,
    from: t.fromOwnerId,
    to: t.toOwnerId,
    offer: t.offer,
    acceptance: t.acceptance,
  }));
  if (links.some((l, i) => i > 0 && links[i - 1]?.to !== l.from) || links.at(-1)?.to !== owner) {
    throw refuse(`and its transfers from ${record.ownerId} do not lead to ${owner || "it"}`);
  }
  if (!record.ownerSince) throw invalidArgument("record.owner_since", "required to take a state of another owner");
  const since = timestampDate(record.ownerSince).getTime();
  const accepted = Number(links[0]?.acceptance?.issuedAt ?? 0n) * 1000;
  if (accepted + SIGNATURE_MAX_AGE_SECONDS * 1000 + RECORD_CLOCK_ALLOWANCE_MS < since) {
    throw refuse(
      `and its transfer from ${record.ownerId} was accepted at ${new Date(accepted).toISOString()}, before the pool's record of that owner began (${new Date(since).toISOString()}): an older state`,
    );
  }
  return links;
}

/** trust.json as a restore reads it. */
interface TrustFacts {
  level?: unknown;
  dailySpendLimitWei?: unknown;
}

/** What a restore writes of trust and permissions, and each field it lowered (its name and both values). */
export interface LoweredTrust {
  /** trust.json and permissions.json to write over the state's; none where the state's stand. */
  files: Record<string, string>;
  lowered: { field: string; state: string; record: string; now: string }[];
}

/** A grant from the most open to the strictest: allow, ask, refuse. */
const GRANT_STRICTNESS = [Grant.ALLOW, Grant.ASK, Grant.REFUSE];
/** What an outsider's text may get, from the most open: answer, ask, none. */
const REPLY_STRICTNESS = [OutsiderReply.ANSWER, OutsiderReply.ASK, OutsiderReply.NONE];

/**
 * The trust level, daily limit and permissions a restored agent runs at: the
 * lower of the state's and the pool's record's, field by field (a level; a
 * limit, at a level that moves money; each member's grant and what an
 * outsider's text may get, the stricter; approvals asked directly when either
 * says so, the more private). A record with no level (an agent claimed before
 * trust levels) and a state with no trust.json are at the starting level: L2
 * without a limit. L4 without a limit above 0 is L3.
 */
export function lowerTrust(files: Readonly<Record<string, string>>, record: RestoreRecord): LoweredTrust {
  const trust = parse<TrustFacts>(files[FILES.trust], "state.trust_level");
  const stateLevel = typeof trust?.level === "number" ? (trust.level as TrustLevel) : TrustLevel.ADVISOR;
  const recordLevel = record.trustLevel === TrustLevel.UNSPECIFIED ? TrustLevel.ADVISOR : record.trustLevel;
  const stateLimit =
    trust === undefined ? "0" : wei(typeof trust.dailySpendLimitWei === "string" ? trust.dailySpendLimitWei : "0");
  const recordLimit = record.trustLevel === TrustLevel.UNSPECIFIED ? "0" : wei(record.dailySpendLimitWei);
  let level = Math.min(stateLevel, recordLevel) as TrustLevel;
  const limit = BigInt(stateLimit) < BigInt(recordLimit) ? stateLimit : recordLimit;
  if (level === TrustLevel.AUTONOMOUS && limit === "0") level = TrustLevel.OPERATOR;
  const kept = level >= TrustLevel.ADVISOR ? limit : "0";
  const lowered: LoweredTrust["lowered"] = [];
  const out: Record<string, string> = {};
  const levelChanged = level !== stateLevel || (level >= TrustLevel.ADVISOR && kept !== stateLimit);
  if (level !== stateLevel)
    lowered.push({ field: "trust_level", state: nameOf(stateLevel), record: nameOf(recordLevel), now: nameOf(level) });
  if (level >= TrustLevel.ADVISOR && kept !== stateLimit)
    lowered.push({ field: "daily_spend_limit_wei", state: stateLimit, record: recordLimit, now: kept });
  if (levelChanged) {
    const file: TrustFile = { level, dailySpendLimitWei: kept, setAt: new Date().toISOString(), byOwner: false };
    out[FILES.trust] = JSON.stringify(file);
  }

  let stated: ResolvedPermissions;
  try {
    const file = parse<{ permissions?: unknown }>(files[FILES.permissions], "state.permissions");
    stated = resolvePermissions(file?.permissions as Parameters<typeof resolvePermissions>[0]);
  } catch {
    throw failedPrecondition("state.permissions: the sealed state's permissions do not read; nothing restored");
  }
  const recorded = resolvePermissions(record.permissions);
  const stricter = <T>(order: readonly T[], a: T, b: T) => (order.indexOf(a) >= order.indexOf(b) ? a : b);
  const merged: ResolvedPermissions = {
    memberSms: stricter(GRANT_STRICTNESS, stated.memberSms, recorded.memberSms),
    memberEmail: stricter(GRANT_STRICTNESS, stated.memberEmail, recorded.memberEmail),
    memberCrypto: stricter(GRANT_STRICTNESS, stated.memberCrypto, recorded.memberCrypto),
    outsiderReply: stricter(REPLY_STRICTNESS, stated.outsiderReply, recorded.outsiderReply),
    approvals:
      stated.approvals === ApprovalPlace.DIRECT || recorded.approvals === ApprovalPlace.DIRECT
        ? ApprovalPlace.DIRECT
        : stated.approvals,
  };
  const names = { state: permissionNames(stated), record: permissionNames(recorded), now: permissionNames(merged) };
  for (const field of Object.keys(names.now) as (keyof typeof names.now)[])
    if (names.now[field] !== names.state[field])
      lowered.push({
        field: `permissions.${field}`,
        state: names.state[field],
        record: names.record[field],
        now: names.now[field],
      });
  if (lowered.some((l) => l.field.startsWith("permissions.")))
    out[FILES.permissions] = JSON.stringify({ permissions: merged, setAt: new Date().toISOString() });
  return { files: out, lowered };
}

/** A file of the state as JSON; absent: undefined; one that does not parse is refused naming `field`. */
function parse<T>(text: string | undefined, field: string): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw failedPrecondition(`${field}: the sealed state's file does not read; nothing restored`);
  }
}

/** A limit in wei as one spelling: "" and "0" are none. */
function wei(text: string): string {
  return /^\d{1,78}$/.test(text) ? BigInt(text).toString() : text === "" ? "0" : text;
}

function nameOf(level: TrustLevel | undefined): string {
  return (level !== undefined && trustLevelName(level)) || "none";
}
