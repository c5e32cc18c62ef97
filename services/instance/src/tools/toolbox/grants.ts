// What the owner allows the agent: its trust level with the daily limit
// (trust.json) and whose requests it acts on (permissions.json), each change
// written, then recorded in the activity log. The owner's signature on a
// change is checked before it comes here (agent/face/owner.ts); a template's
// version may only lower the level. The gate reads both at every call.

import { formatEther } from "viem";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ToolCallOutcome } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { Logger } from "@convos-pool/kit/server";
import { resolvePermissions, trustLevelName, type ResolvedPermissions } from "@convos-pool/kit/content";
import { FILES, type Workspace } from "../../platform/workspace.js";
import type { ActivityLog } from "../gate/activity.js";
import { describePermissions } from "../gate/permissions.js";
import { initialTrust, type TrustFile } from "../trust/levels.js";

/** permissions.json: what the owner last set (absent: the defaults). */
interface PermissionsFile {
  permissions: ResolvedPermissions;
  setAt: string;
}

export class Grants {
  private trust: TrustFile | undefined;
  private permissions: ResolvedPermissions = resolvePermissions(undefined);

  /** `activity`: where each change is recorded, once the toolbox opened it. */
  constructor(
    private readonly ws: Workspace,
    private readonly log: Logger,
    private readonly activity: () => ActivityLog | undefined,
  ) {}

  /** Its level (L1 while it holds nothing). */
  get level(): TrustLevel {
    return this.trust?.level ?? TrustLevel.OBSERVER;
  }

  /** Its trust file as written; none before load() or after a release. */
  get snapshot(): TrustFile | undefined {
    return this.trust;
  }

  /** Its trust as the gate reads it: L1 with no limit while it holds nothing. */
  get current(): TrustFile {
    return this.trust ?? initialTrust(TrustLevel.OBSERVER);
  }

  /** Whose requests it acts on. */
  get granted(): ResolvedPermissions {
    return this.permissions;
  }

  /** A new claim: its template's starting level and the default permissions. */
  async begin(templateMax: TrustLevel): Promise<void> {
    this.permissions = resolvePermissions(undefined);
    await this.ws.remove(FILES.permissions);
    await this.ws.writeJson(FILES.trust, initialTrust(templateMax));
  }

  /** Both from the workspace (configure, restart, update); a level never written is the template's starting one. */
  async load(templateMax: TrustLevel): Promise<void> {
    this.trust = (await this.ws.readJson<TrustFile>(FILES.trust)) ?? initialTrust(templateMax);
    this.permissions = resolvePermissions((await this.ws.readJson<PermissionsFile>(FILES.permissions))?.permissions);
  }

  /** A level the owner set, or one a new template version imposes; recorded. */
  async setLevel(level: TrustLevel, dailySpendLimitWei: string, why: string, byOwner: boolean): Promise<TrustFile> {
    const before = this.level;
    // The owner's limit holds at every level that moves money (L2 to L4); L1 moves none.
    const kept = level >= TrustLevel.ADVISOR && /^[1-9]\d*$/.test(dailySpendLimitWei) ? dailySpendLimitWei : "0";
    const trust: TrustFile = { level, dailySpendLimitWei: kept, setAt: new Date().toISOString(), byOwner };
    await this.ws.writeJson(FILES.trust, trust);
    this.trust = trust;
    const limit = kept !== "0" ? `, spending at most ${formatEther(BigInt(kept))} ETH a day` : "";
    await this.activity()?.record({
      toolId: "trust",
      action: "set_trust_level",
      outcome: ToolCallOutcome.DONE,
      detail: `${trustLevelName(before)} → ${trustLevelName(level)}, ${why}${limit}`,
      trustLevel: level,
    });
    this.log.info("trust level set", { from: trustLevelName(before), to: trustLevelName(level) });
    return trust;
  }

  /** Permissions the owner set; recorded. */
  async setPermissions(permissions: ResolvedPermissions): Promise<ResolvedPermissions> {
    await this.ws.writeJson(FILES.permissions, {
      permissions,
      setAt: new Date().toISOString(),
    } satisfies PermissionsFile);
    this.permissions = permissions;
    await this.activity()?.record({
      toolId: "permissions",
      action: "set_permissions",
      outcome: ToolCallOutcome.DONE,
      detail: `set by the owner: ${describePermissions(permissions)}`,
      trustLevel: this.level,
    });
    this.log.info("permissions set", { permissions: describePermissions(permissions) });
    return permissions;
  }

  /** The claim is over: both files go, and it holds nothing. */
  async release(): Promise<void> {
    for (const f of [FILES.trust, FILES.permissions]) await this.ws.remove(f);
    this.trust = undefined;
    this.permissions = resolvePermissions(undefined);
  }
}
