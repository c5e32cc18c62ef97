// A claim's calls: Configure (what the agent is: its template, model, tools,
// owner), JoinConversation (where it talks) and UpdateTemplate (a newer
// release of what it is). agent/face/configure.ts and agent/face/update.ts check each and plan what
// it writes; here the plan is applied, in the order that lets a retry finish.
// What other files hold changes through them: config.json through
// settings.ts, a new claim's empty memory, conversation and inheritance
// through theirs.
// Each runs inside `ops`, once the agent is ready (its facade sees to it).
// An update that takes the wallet away tells the owner first, what the
// wallet holds and where it goes (agent/face/wallet-removal.ts decides).

import { setTimeout as sleep } from "node:timers/promises";
import {
  failedPrecondition,
  invalidArgument,
  resolveParticipation,
  renderIdentity,
  requireString,
  runsOnOpenClaw,
} from "@convos-pool/kit/content";
import { inviteHash } from "@convos-pool/kit/signing";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { GROUP_MEMBER_LIMIT, joinConversation, parseInvite, type Invite as ParsedInvite } from "@convos-pool/convos";
import { toJson } from "@bufbuild/protobuf";
import type { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ConversationTools, InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  ConversationAdditionSchema,
  type AddConversationRequest,
  type ConfigureRequest,
  type InstanceServiceUpdateTemplateRequest,
  type LeaveConversationRequest,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { checkOwnerSignature } from "../../platform/owner-signature.js";
import { planAdd, planLeave, type HeldConversation } from "./conversations.js";
import { ownerCheckOf } from "./owner.js";
import { planConfigure } from "./configure.js";
import { planTemplateUpdate, type TemplateUpdate } from "./update.js";
import { dropsWallet, walletRemovalNotice, type WalletBalance } from "./wallet-removal.js";
import { FILES } from "../../platform/workspace.js";
import { readJoin } from "../conversation/files.js";
import type { Parts } from "../life/parts.js";
import { joinProfile } from "./profile.js";
import type { Conversation, ConversationState } from "../conversation/listening.js";
import { appliedReleaseKey, type InstanceConfig } from "../state/settings.js";
import type { AgentGroup } from "../../platform/xmtp.js";

/** What a moved agent says once it is back in its conversation (its owner learns its host changed). */
/** How often a moved agent waiting to be let back in looks for its group between its join requests. */
const REJOIN_LOOK_MS = 3_000;
export const MOVED_NOTICE = "I moved to another host (my old one was lost). I still remember what you taught me.";

export class Claim {
  /** The join under way, ended by a release (its claim was cancelled or rolled back: stopJoin). */
  private joining: AbortController | undefined;

  constructor(private readonly agent: Parts) {}

  /**
   * Ends the join under way, if any: a release comes after it in the agent's
   * queue of calls, and must not wait out the creator's silence (its claim was
   * cancelled, or rolled back). Nothing of the join was written yet.
   */
  stopJoin(): void {
    this.joining?.abort(failedPrecondition(`instance ${this.agent.id} was released while it waited to be let in`));
  }

  /**
   * Takes a claim's configuration once agent/face/configure.ts checked it: the
   * creator-signed release, and a model, tools and user config that release
   * allows. Nothing is written before the checks pass.
   */
  async configure(req: ConfigureRequest): Promise<void> {
    const agent = this.agent;
    if (agent.status.state === InstanceState.CLAIMED) {
      throw failedPrecondition(`instance ${agent.id} is already in a conversation; Release it first`);
    }
    if (req.instanceId && req.instanceId !== agent.id) {
      throw invalidArgument("instance_id", `names ${req.instanceId}, but the call is for instance ${agent.id}`);
    }
    const { config, content, credentials } = await planConfigure(await agent.deps.releases(), agent.id, req);
    checkRuntime(content, agent.deps.runtime?.kind, "template.content.runtime");
    // A claim starts fresh: no memory, conversation or inheritance of an
    // earlier claim. config.json last: its presence is what makes the
    // instance configured after a restart.
    await agent.ws.writeText(FILES.identity, renderIdentity(content));
    await agent.ws.writeSecrets(agent.status.mustWallet().credentialsKey(), credentials);
    await agent.memory.fresh();
    // Its conversations' files, the invites it joined with among them.
    await agent.conversations.reset();
    await agent.inheritance.reset();
    await agent.toolbox.begin(content.maxTrustLevel);
    await agent.settings.setConfig(config);
    await agent.loadTools(config);
    // Its runtime's files from the release just checked, and its gateway starting (docs/openclaw.md).
    await agent.deps.runtime?.apply(agent);
    agent.status.claiming();
    agent.log.info("instance configured", {
      templateId: config.templateId,
      templateVersion: config.templateVersion,
      model: config.model,
      modelOverridden: config.modelOverridden,
      tools: config.tools.map((t) => t.toolId),
      userConfigFields: Object.keys(config.userConfig),
      parentInstanceId: config.parent?.instanceId,
    });
  }

  /** Joins the invite's conversation (or names the one it joined with that invite already) and answers there. */
  async joinConversation(invite: string, signal?: AbortSignal): Promise<string> {
    const agent = this.agent;
    const config = agent.settings.config;
    if (!config) throw failedPrecondition(`instance ${agent.id} is not configured: call Configure first`);
    requireString("conversation_invite", invite, { max: 64 * 1024 });
    const current = agent.conversations.home?.current;
    if (current) {
      const parsed = await parseInvite(invite);
      if (parsed.payload.tag === current.inviteTag) return current.conversationId;
      throw failedPrecondition(`instance ${agent.id} is already in conversation ${current.conversationId}`);
    }
    const started = performance.now();
    const { parsed, group } = await this.join(invite, config, signal);
    const convo = joinedState(group, parsed, invite);
    // With the invite: what it rejoins with if its host is lost (host/restore.ts), kept off the host with the rest of its state.
    await agent.conversations.begin(convo, group, invite);
    // Its wallet starts empty: its owner learns where to fund it, and what it holds (docs/limits.md).
    void agent.toolbox
      .walletNotice()
      .then((text) => text && group.sendText(text))
      .catch((err: unknown) => agent.log.warn("could not tell its owner about its wallet", { err }));
    await agent.inheritance.awaitSummary();
    agent.log.info("instance joined its conversation", {
      conversationId: group.id,
      creatorInboxId: parsed.creatorInboxId,
      ms: Math.round(performance.now() - started),
    });
    return group.id;
  }

  /**
   * Joins another conversation as its owner signed it (AddConversation,
   * planned by conversations.ts): the owner's signature over this invite, its
   * participation and tools there, checked here, whatever the pool says. It
   * answers there under that participation, with its own inbox, wallet and
   * memory read through that conversation's walls (memory/walls.ts).
   */
  async addConversation(req: AddConversationRequest): Promise<string> {
    const agent = this.agent;
    const config = agent.settings.config;
    if (!config) throw failedPrecondition(`instance ${agent.id} is not configured: claim it first`);
    const plan = planAdd(req, {
      claimed: agent.conversations.home !== undefined,
      home: agent.conversations.home?.id,
      conversations: agent.conversations.all().flatMap((c) => (c.current ? [heldOf(c.current)] : [])),
    });
    if (plan.kind === "in") return plan.conversationId;
    const { addition } = plan;
    await checkOwnerSignature(
      await ownerCheckOf(agent, config),
      plan.ownerId,
      "AddToConversation",
      plan.fields,
      addition.signature,
    );
    const started = performance.now();
    const tag = { asked: undefined as string | undefined };
    const { parsed, group } = await this.join(plan.invite, config, undefined, tag).catch(async (err: unknown) => {
      // Its request may still be answered: the invite is watched, and its group left if it comes.
      if (tag.asked !== undefined) await agent.invites.doneWith(tag.asked, false);
      throw err;
    });
    // Another invite of a conversation it is in: that conversation.
    if (agent.conversations.has(group.id)) {
      await agent.invites.doneWith(parsed.payload.tag, true);
      return group.id;
    }
    // Its participation there before it listens: its first answer there is under it.
    await agent.settings.setParticipation(resolveParticipation(addition.participation), group.id);
    await agent.conversations.add(joinedState(group, parsed, plan.invite), group, plan.invite, {
      tools: addition.tools === ConversationTools.NONE ? "none" : "shared",
      addition: toJson(ConversationAdditionSchema, addition),
    });
    agent.log.info("instance joined another conversation", {
      conversationId: group.id,
      conversations: agent.conversations.count,
      ms: Math.round(performance.now() - started),
    });
    return group.id;
  }

  /**
   * Leaves one of its conversations as its owner signed it
   * (LeaveConversation): never its last (RemoveAgent ends it); its home
   * moves to the oldest other when it leaves its home. What that
   * conversation's people taught it goes with it (memory/walls.ts: what
   * is read only there). The home from now on.
   */
  async leaveConversation(req: LeaveConversationRequest): Promise<string> {
    const agent = this.agent;
    const config = agent.settings.config;
    if (!config) throw failedPrecondition(`instance ${agent.id} is not configured: it is in no conversation`);
    const home = agent.conversations.home?.id;
    const plan = planLeave(req.conversationId, {
      claimed: home !== undefined,
      home,
      conversations: agent.conversations.all().flatMap((c) => (c.current ? [heldOf(c.current)] : [])),
    });
    await checkOwnerSignature(
      await ownerCheckOf(agent, config),
      req.ownerId,
      "RemoveFromConversation",
      { conversationId: plan.conversationId },
      req.signature,
    );
    const walls = { ownerId: config.ownerId, home: home ?? plan.home };
    const inviteTag = agent.conversations.get(plan.conversationId)?.current?.inviteTag;
    await agent.conversations.leave(plan.conversationId, plan.home);
    // It was in: no request of that invite is pending.
    if (inviteTag !== undefined) await agent.invites.doneWith(inviteTag, true);
    const forgot = await agent.memory.forgetConversation(plan.conversationId, walls);
    agent.log.info("instance left a conversation", {
      conversationId: plan.conversationId,
      homeMoved: plan.home !== home,
      entriesForgotten: forgot,
    });
    return plan.home;
  }

  /**
   * Joins the conversation of `invite` with its profile, within XMTP's member
   * limit; a release aborts it. With `added`, another conversation its owner
   * adds it to: its invite kept beside the claim's (state/invites.ts), and
   * its tag told once the request is about to go out.
   */
  private async join(
    invite: string,
    config: InstanceConfig,
    signal?: AbortSignal,
    added?: { asked: string | undefined },
  ): Promise<{ parsed: ParsedInvite; group: AgentGroup }> {
    const agent = this.agent;
    const joining = new AbortController();
    this.joining = joining;
    const stopped = signal ? AbortSignal.any([signal, joining.signal]) : joining.signal;
    const { invite: parsed, group } = await joinConversation(agent.status.mustClient(), invite, {
      resolver: await agent.deps.resolver(),
      profileName: config.agentName,
      // Its face from the start; the badge and certificate follow with the pool's attestation (profile.ts).
      ...profileAtJoin(config),
      timeoutMs: agent.deps.joinTimeoutMs ?? 60_000,
      // A creator's client may let it into a group past XMTP's limit: it says so and leaves (Release).
      memberLimit: GROUP_MEMBER_LIMIT,
      onInvite: (i) => {
        const attempt = {
          tag: i.payload.tag,
          creatorInboxId: i.creatorInboxId,
          ...(i.expiresAt ? { expiresAt: i.expiresAt.toISOString() } : {}),
        };
        if (!added) return agent.invites.attempt(attempt);
        added.asked = attempt.tag;
        return agent.invites.attemptAdded(attempt);
      },
      signal: stopped,
    }).finally(() => {
      if (this.joining === joining) this.joining = undefined;
    });
    return { parsed, group };
  }

  /**
   * Back into its conversation after a move (host/restore.ts; docs/scaling.md,
   * "What XMTP needs to let a moved agent back in"): its new installation is
   * in the group once a member's client commits a change that adds the
   * inbox's missing installations. It asks the creator for one by sending its
   * join request again with the invite it kept (the creator's client adds its
   * inbox again, which adds the new installation), and meanwhile looks for the
   * group by id (another member's commit lets it in too). Tried until it is in
   * or stopped; once in, it answers there and says once that it moved.
   * Each of its conversations side by side; moved.json goes once every one
   * was told.
   */
  async rejoin(): Promise<void> {
    const agent = this.agent;
    const all = agent.conversations.all();
    if (all.length === 0) throw new Error(`instance ${agent.id} has no conversation to rejoin`);
    const told = await Promise.all(all.map((c) => this.rejoinOne(c)));
    if (told.every(Boolean)) await agent.ws.remove(FILES.moved);
  }

  /** Back into one conversation; true once it is in and told that it moved (or was not moved). */
  private async rejoinOne(conversation: Conversation): Promise<boolean> {
    const agent = this.agent;
    const convo = conversation.current;
    const config = agent.settings.config;
    if (!convo || !config) return false;
    const join = await readJoin(agent.ws, convo.conversationId);
    const started = performance.now();
    let wait = 2_000;
    for (let attempt = 1; ; attempt++) {
      if (agent.status.stopped) return false;
      const client = agent.status.mustClient();
      try {
        await client.conversations.sync();
        let group = (await client.conversations.getConversationById(convo.conversationId)) as AgentGroup | undefined;
        if (!group?.isActive && join) {
          group = (
            await joinConversation(client, join.invite, {
              resolver: await agent.deps.resolver(),
              profileName: config.agentName,
              ...profileAtJoin(config),
              timeoutMs: agent.deps.joinTimeoutMs ?? 60_000,
            })
          ).group;
          if (group.id !== convo.conversationId) {
            throw new Error(`its invite led to conversation ${group.id}, not its own ${convo.conversationId}`);
          }
        }
        if (group?.isActive) {
          if (agent.status.stopped) return false;
          // Once: a try whose notice failed below is listening already.
          if (!conversation.group) await conversation.listen(group);
          agent.log.info("instance back in its conversation after a move", {
            conversationId: group.id,
            attempts: attempt,
            ms: Math.round(performance.now() - started),
          });
          if (await agent.ws.readJson(FILES.moved)) {
            // Through its retried sends (platform/sends.ts): the network's limit delays the notice, never loses it.
            await (conversation.group ?? group).sendText(MOVED_NOTICE);
          }
          return true;
        }
      } catch (err) {
        agent.log.warn("not back in its conversation yet; asking again", { attempt, err });
      }
      // Until it asks again, it looks for the group now and then: a creator with many requests
      // queued may answer an earlier one late, and each request asked again is one more commit to make.
      const askAgainAt = Date.now() + wait;
      while (Date.now() < askAgainAt && !agent.status.stopped) {
        await sleep(Math.min(REJOIN_LOOK_MS, askAgainAt - Date.now()), undefined, { ref: false });
        if (await this.letBackIn(convo.conversationId).catch(() => false)) break;
      }
      wait = Math.min(wait * 2, 60_000);
    }
  }

  /** Whether its new installation is in its group: a member's commit added it. */
  private async letBackIn(conversationId: string): Promise<boolean> {
    const client = this.agent.status.mustClient();
    await client.conversations.sync();
    const group = (await client.conversations.getConversationById(conversationId)) as AgentGroup | undefined;
    return group?.isActive === true;
  }

  /**
   * A creator-signed template version (agent/face/update.ts checks it). Written in the
   * order that lets a retry finish a crashed update: credentials, IDENTITY.md,
   * then config.json, whose version is the applied one. The next turn reads
   * the new IDENTITY.md; a turn already running keeps the config it started with.
   */
  async updateTemplate(
    req: InstanceServiceUpdateTemplateRequest,
  ): Promise<{ appliedVersion: bigint; appliedBaseVersions: bigint[]; model: string; trustLevel: TrustLevel }> {
    const agent = this.agent;
    const applied = agent.settings.config;
    if (!applied) throw failedPrecondition(`instance ${agent.id} is not configured: there is no template to update`);
    const update = await planTemplateUpdate(await agent.deps.releases(), applied, req);
    checkRuntime(update.content, agent.deps.runtime?.kind, "template.content.runtime");
    // Read while it still has the wallet; told once the version is applied, before this answers.
    const notice = await this.walletRemoval(applied, update);
    await agent.ws.writeSecrets(agent.status.mustWallet().credentialsKey(), update.credentials);
    await agent.ws.writeText(FILES.identity, renderIdentity(update.content));
    // Its runtime's files before config.json, as IDENTITY.md: the applied version is config's.
    await agent.deps.runtime?.apply(agent, { content: update.content, model: update.config.model });
    await agent.settings.setConfig(update.config);
    await agent.loadTools(update.config);
    await agent.toolbox.clamp(agent.settings.templateMax(), update.config.templateVersion);
    agent.log.info("template updated", {
      templateId: update.config.templateId,
      fromVersion: applied.templateVersion,
      templateVersion: update.config.templateVersion,
      model: update.config.model,
      modelOverridden: update.config.modelOverridden,
      tools: update.config.tools.map((t) => t.toolId),
    });
    if (notice) await this.tellOwner(notice);
    return {
      appliedVersion: BigInt(update.config.templateVersion),
      appliedBaseVersions: agent.settings.appliedBaseVersions,
      model: update.config.model,
      trustLevel: agent.toolbox.level,
    };
  }

  /**
   * What to tell its owner if the update takes its wallet away while it holds
   * something (agent/face/wallet-removal.ts); undefined otherwise. The balance is
   * read now, before the wallet goes; one that cannot be read in time is told
   * as such.
   */
  private async walletRemoval(applied: InstanceConfig, update: TemplateUpdate): Promise<string | undefined> {
    const agent = this.agent;
    const drops = dropsWallet(applied.tools, update.config.tools);
    if (!drops) return undefined;
    let balance: WalletBalance = "unreadable";
    try {
      const wei = await within(agent.toolbox.walletBalance(), WALLET_NOTICE_MS);
      if (typeof wei === "bigint") balance = { wei };
      else
        agent.log.warn("its wallet's balance could not be read before the version took it away", {
          reason: wei === "late" ? `no answer from the chain in ${WALLET_NOTICE_MS} ms` : "this host reaches no chain",
        });
    } catch (err) {
      agent.log.warn("its wallet's balance could not be read before the version took it away", { err });
    }
    return walletRemovalNotice({
      name: update.content.agentName,
      key: appliedReleaseKey(update.config),
      drops,
      balance,
    });
  }

  /** Says `text` in its conversation, as a message of its own; a failure is logged, never the update's. */
  private async tellOwner(text: string): Promise<void> {
    const agent = this.agent;
    const group = agent.conversations.home?.group;
    if (!group) {
      agent.log.warn("its owner could not be told the wallet goes: it is in no conversation");
      return;
    }
    try {
      if ((await within(group.sendText(text), WALLET_NOTICE_MS)) === "late")
        agent.log.warn("telling its owner the wallet goes took too long; the update goes on");
      else agent.log.info("its owner was told the wallet goes");
    } catch (err) {
      agent.log.warn("could not tell its owner the wallet goes", { err });
    }
  }
}

/**
 * How long the notice of a wallet taken away may hold an update up, for
 * reading the balance and for sending: the claims service waits for the
 * answer, and a chain or network that is down must not stop the version.
 */
export const WALLET_NOTICE_MS = 10_000;

/** `p`'s value, or "late" after `ms` (its failure is the caller's). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | "late"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A release runs on this host only if the creator chose its runtime:
 * OpenClaw templates on OpenClaw hosts, the others on the pool's own
 * (docs/openclaw.md). Nothing is written before this passes.
 */
function checkRuntime(content: TemplateContent, host: "openclaw" | undefined, field: string): void {
  const wants = runsOnOpenClaw(content) ? "openclaw" : "pool";
  const runs = host ?? "pool";
  if (wants !== runs)
    throw failedPrecondition(
      `${field}: the template runs on the ${wants} runtime and this host runs the ${runs} runtime; the pool places it on a host of its runtime`,
    );
}

function profileAtJoin(config: InstanceConfig) {
  const { metadata, imageUrl } = joinProfile(config);
  return { profileMetadata: metadata, ...(imageUrl ? { profileImageUrl: imageUrl } : {}) };
}

/** Its state in a conversation it just joined with `invite`: nothing read there yet. */
function joinedState(group: AgentGroup, parsed: ParsedInvite, invite: string): ConversationState {
  return {
    conversationId: group.id,
    inviteTag: parsed.payload.tag,
    inviteHash: inviteHash(invite),
    joinedAt: new Date().toISOString(),
    lastSeenNs: "0",
    agents: [],
    creatorInboxId: parsed.creatorInboxId,
    names: {},
    profiled: [],
  };
}

/** A conversation as the add and leave plans read it. */
function heldOf(convo: ConversationState): HeldConversation {
  return { conversationId: convo.conversationId, inviteHash: convo.inviteHash, joinedAt: convo.joinedAt };
}
