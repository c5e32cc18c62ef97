// What an agent's claim set and its owner set since, each kept in its
// workspace file and in memory, written together: config.json (Configure,
// UpdateTemplate, a transfer of owner), participation.json in its
// conversation's folder (SetParticipation, and beside it a person's pause;
// conversation/files.ts) and sharing.json (the owner's pattern-pool choice). This is their only
// owner: claim.ts and owner.ts change them through the setters below, which
// write the file and then keep what they wrote; everyone else reads. A
// Release forgets all three (their files go with the claim's, life/lifecycle.ts).

import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { resolveContent, resolveParticipation, type ResolvedParticipation } from "@convos-pool/kit/content";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  SignedTemplateSchema,
  type SignedTemplate,
  type TemplateContent,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { NO_SHARING, readSharing, writeSharing, type PatternSharing } from "../../memory/sharing.js";
import { conversationFile, FILES, type Workspace } from "../../platform/workspace.js";

/** config.json: what Configure gave it, without secrets. */
export interface InstanceConfig {
  instanceId: string;
  /** The signed template as received (the creator's signature included). */
  template: JsonValue;
  /** Its bases' signed releases as received, its base first (absent before base templates). */
  bases?: JsonValue[];
  templateId: string;
  templateVersion: string;
  agentName: string;
  ownerId: string;
  model: string;
  modelOverridden: boolean;
  /** Pool-provisioned tools: public handles only; secrets are in credentials.json. */
  tools: { toolId: string; handle: string }[];
  userConfig: Record<string, string>;
  /** A clone's parent as the pool named it: whose summary it waits for. */
  parent?: ParentRef;
  /** The owner's signature of the claim (convos.pool.v1.OwnerProof), for its birth certificate (profile.ts); none for a session. */
  ownerProof?: { ownerId: string; proof: JsonValue };
  /** Every change of owner it checked (convos.pool.v1.TransferProof), oldest first: its certificate's chain from the first owner. */
  transfers?: JsonValue[];
  /** The owner's withdrawn transfer offers: to whom, and up to when they were signed (unix seconds). */
  withdrawnOffers?: Record<string, number>;
  /** Nonces of offers a withdrawal voided whatever their date (owner.ts planWithdrawal), each until it would have expired. */
  voidedOffers?: Record<string, number>;
  /** The owner's newest offer it was told of (NoteTransferOffer): the only one it accepts (owner.ts planTransfer). */
  newestOffer?: { nonce: string; offeredAt: number };
  configuredAt: string;
  /** When the last UpdateTemplate was applied. */
  updatedAt?: string;
}

export interface ParentRef {
  instanceId: string;
  inboxId: string;
  walletIndex: number;
}

/** credentials.json (encrypted): the tools' secrets. */
export type InstanceCredentials = Record<string, Record<string, string>>;

/** participation.json: when it speaks, as its owner last set it (absent: by the conversation's size). */
export interface ParticipationFile {
  participation: ResolvedParticipation;
  setAt: string;
  /** A person's pause there, beside the owner's setting and not signed: until the owner resumes it. */
  memberPause?: MemberPause;
}

/** A person's "stop" or "pause" in a conversation (conversation/plan.ts planArrival): it answers nothing there. */
export interface MemberPause {
  /** Who paused it, by inbox id. */
  by: string;
  /** When, ISO 8601. */
  at: string;
  /** It told a member who asked to resume that only its owner can: once a pause. */
  toldOnlyOwner?: boolean;
}

export class Settings {
  private configured: InstanceConfig | undefined;
  /** When it speaks in each conversation (policy.ts `participates`), by id; by the conversation's size until the owner sets it. */
  private readonly speaks = new Map<string, ResolvedParticipation>();
  /** A person's pause in each conversation, by id (none: not paused so). */
  private readonly pauses = new Map<string, MemberPause>();
  /** The owner's pattern-pool choice (memory/sharing.ts); both off until they set it. */
  private shares: PatternSharing = { ...NO_SHARING };

  constructor(
    private readonly ws: Workspace,
    /** The conversation at hand: a turn's, else its home (none: in no conversation). */
    private readonly conversationId: () => string | undefined,
  ) {}

  /** What Configure gave it (none: idle). */
  get config(): InstanceConfig | undefined {
    return this.configured;
  }

  /** When it speaks in the conversation at hand. */
  get participation(): ResolvedParticipation {
    return this.participationIn(this.conversationId());
  }

  /** When it speaks in `conversationId`. */
  participationIn(conversationId: string | undefined): ResolvedParticipation {
    return (conversationId && this.speaks.get(conversationId)) || resolveParticipation(undefined);
  }

  get sharing(): PatternSharing {
    return this.shares;
  }

  // ---- config.json ----

  /** config.json as its workspace has it (a start): kept, and returned. */
  async loadConfig(): Promise<InstanceConfig | undefined> {
    this.configured = await this.ws.readJson<InstanceConfig>(FILES.config);
    return this.configured;
  }

  /** A config.json read and checked by the caller (a dormant start, a wake). */
  restore(config: InstanceConfig): void {
    this.configured = config;
  }

  /** config.json written, then kept: at Configure its presence is what makes the instance configured after a restart. */
  async setConfig(next: InstanceConfig): Promise<void> {
    await this.ws.writeJson(FILES.config, next);
    this.configured = next;
  }

  /** The signed template it was configured with. */
  signedTemplate(): SignedTemplate | undefined {
    return this.configured ? fromJson(SignedTemplateSchema, this.configured.template) : undefined;
  }

  /** What it runs on: its signed template with its bases applied (checked when they came). */
  runningContent(): TemplateContent | undefined {
    return this.configured && runningContentOf(this.configured);
  }

  /** The template's highest level, as the creator signed it. */
  templateMax(): TrustLevel {
    return this.runningContent()?.maxTrustLevel ?? TrustLevel.UNSPECIFIED;
  }

  /** The content versions of its template's bases it runs on, its base first. */
  get appliedBaseVersions(): bigint[] {
    return this.configured ? appliedReleaseKey(this.configured).slice(1) : [];
  }

  // ---- the owner's settings ----

  /** Its conversations' participation.json and its sharing.json as its workspace has them (a start, a wake). */
  async loadOwnerSettings(conversationIds: readonly string[]): Promise<void> {
    this.shares = await readSharing(this.ws);
    this.speaks.clear();
    this.pauses.clear();
    for (const id of conversationIds) await this.loadParticipation(id);
  }

  /** A conversation's participation.json, read (a start; a conversation joined). */
  async loadParticipation(conversationId: string): Promise<void> {
    const file = await this.ws.readJson<ParticipationFile>(conversationFile(conversationId, "participation"));
    this.speaks.set(conversationId, resolveParticipation(file?.participation));
    if (file?.memberPause) this.pauses.set(conversationId, file.memberPause);
    else this.pauses.delete(conversationId);
  }

  /** A person's pause in `conversationId`, when it is paused so. */
  memberPauseIn(conversationId: string | undefined): Readonly<MemberPause> | undefined {
    return conversationId ? this.pauses.get(conversationId) : undefined;
  }

  /**
   * A person's pause in `conversationId` (none: the owner resumed it), kept at once and then written beside the
   * owner's setting, which stays as it was.
   */
  async setMemberPause(conversationId: string, pause: MemberPause | undefined): Promise<void> {
    if (pause) this.pauses.set(conversationId, pause);
    else this.pauses.delete(conversationId);
    const file = conversationFile(conversationId, "participation");
    const was = await this.ws.readJson<ParticipationFile>(file);
    await this.ws.writeJson(file, {
      participation: was?.participation ?? this.participationIn(conversationId),
      setAt: was?.setAt ?? new Date().toISOString(),
      ...(pause ? { memberPause: pause } : {}),
    } satisfies ParticipationFile);
  }

  /**
   * When it speaks in `conversationId` (by default the one at hand), as the owner just set it (owner.ts checked
   * their signature); kept in that conversation's folder.
   */
  async setParticipation(participation: ResolvedParticipation, conversationId = this.conversationId()): Promise<void> {
    if (!conversationId) throw new Error("participation is set in a conversation, and it is in none");
    await this.ws.writeJson(conversationFile(conversationId, "participation"), {
      participation,
      setAt: new Date().toISOString(),
    } satisfies ParticipationFile);
    this.speaks.set(conversationId, participation);
    // The owner's signed word, whatever the mode, ends a person's pause there (written out of the file above).
    this.pauses.delete(conversationId);
  }

  /** The pattern-pool choice, as the owner just set it (memory/service.ts checked their signature). */
  async setSharing(sharing: PatternSharing): Promise<void> {
    await writeSharing(this.ws, sharing);
    this.shares = sharing;
  }

  /** A Release: nothing of the claim stays, and the next claim starts from the defaults. */
  forget(): void {
    this.configured = undefined;
    this.speaks.clear();
    this.pauses.clear();
    this.shares = { ...NO_SHARING };
  }
}

/**
 * What a configuration runs on: its signed template with its bases applied,
 * its base first (each checked when it came); none when a layer has no content.
 */
export function runningContentOf(config: InstanceConfig): TemplateContent | undefined {
  const layers = [config.template, ...(config.bases ?? [])].map((j) => fromJson(SignedTemplateSchema, j).content);
  return layers.every((c): c is TemplateContent => c !== undefined) ? resolveContent(layers) : undefined;
}

/** Where the release it runs stands: its template's version, then its bases'. */
export function appliedReleaseKey(config: InstanceConfig): bigint[] {
  return [
    BigInt(config.templateVersion),
    ...(config.bases ?? []).map((b) => fromJson(SignedTemplateSchema, b).version),
  ];
}
