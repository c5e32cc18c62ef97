// Clone with context, both sides (clone/summary.ts checks what each side receives).
// The parent summarizes what its owner lets carry and sends it to the child
// in a group of just the two of them; the child, configured with a parent,
// hears every group that is none of its conversations (through the
// agent's one stream, conversation/conversations.ts, and a sweep of them
// now and then, which finds what the stream missed) for that summary until
// SUMMARY_WAIT_MS after its Configure, takes in the one clone/summary.ts
// accepts, and records how it went in inheritance.json (counts and
// reasons, never the summary): that file and its copy are this file's alone.

import { nonceUsed, failedPrecondition } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { CloneSummaryRequest } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { CloneSummary } from "@convos-pool/gen/convos/pool/v1/clone_summary_pb.js";
import {
  CLONE_SIGNATURE_MAX_AGE_SECONDS,
  buildSummary,
  checkCloneRequest,
  checkSummary,
  cloneSelection,
  type CloneChecks,
} from "../../clone/summary.js";
import { cloneSummaryCodec, isCloneSummary } from "../../platform/xmtp.js";
import { OfflineProvider } from "../../model/offline.js";
import type { NewEntry } from "../../memory/store.js";
import { withProvenance } from "../../memory/provenance.js";
import type { LlmProvider } from "../../model/turn.js";
import type { SpentNonces } from "../../platform/nonces.js";
import { FILES, type Workspace } from "../../platform/workspace.js";
import type { AgentGroup, AgentMessage } from "../../platform/xmtp.js";
import type { HeldMemory } from "../state/memory.js";
import type { Conversation } from "../conversation/listening.js";
import type { Conversations } from "../conversation/conversations.js";
import type { Status } from "../state/status.js";
import { withTimeout, type Turns } from "../turns/serial.js";
import type { Settings } from "../state/settings.js";
import type { InstanceDeps } from "./deps.js";

/** inheritance.json: a clone's wait for its parent's summary (counts and reasons, never the summary). */
export interface InheritanceFile {
  state: "waiting" | "inherited" | "refused" | "timed_out";
  /** Entries taken in. */
  entries?: number;
  /** Why a summary was refused, or none came. */
  reason?: string;
  at: string;
}

/** What the inheritance uses of its agent (parts.ts). */
export interface InheritanceParts {
  readonly id: string;
  readonly deps: InstanceDeps;
  readonly log: Logger;
  readonly ws: Workspace;
  readonly turns: Turns;
  readonly status: Status;
  readonly settings: Settings;
  readonly memory: HeldMemory;
  readonly conversation: Pick<Conversation, "current" | "group" | "history">;
  /** Its conversations, and the stream that hands it what is said in groups none of them. */
  readonly conversations: Pick<Conversations, "has" | "tapOthers">;
  readonly llm: LlmProvider;
  nonces(): Promise<SpentNonces>;
}

/** How long a clone listens for its parent's summary after it was configured. */
export const SUMMARY_WAIT_MS = 15 * 60 * 1000;
/**
 * How often a waiting clone looks for the summary itself, beside its stream:
 * the first message of a group made after the stream opened (the parent's
 * group of two) can come before the stream carries that group, and then only
 * a sweep finds it. Every 2 s at first, doubling to a minute.
 */
export const SWEEP_FIRST_MS = 2_000;
export const SWEEP_MAX_MS = 60_000;

export class Inheritance {
  /** A clone: where its parent's summary stands (inheritance.json). */
  private inheritance: InheritanceFile | undefined;
  /** While the child waits: how it stops hearing groups none of its conversations, and when the wait ends. */
  private untap: (() => void) | undefined;
  private summaryTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** New groups while it waits: the parent's group of two is read as soon as it is made. */
  private groups: { end(): unknown } | undefined;

  constructor(private readonly agent: InheritanceParts) {}

  /** A clone's inheritance (none for an agent that is not one). */
  get file(): InheritanceFile | undefined {
    return this.inheritance;
  }

  /** inheritance.json as its workspace has it (a start, a wake). */
  async load(): Promise<void> {
    this.inheritance = await this.agent.ws.readJson<InheritanceFile>(FILES.inheritance);
  }

  /** A new claim (Configure): nothing inherited yet. */
  async reset(): Promise<void> {
    await this.agent.ws.remove(FILES.inheritance);
    this.inheritance = undefined;
  }

  /** A Release (inheritance.json goes with the claim's files). */
  forget(): void {
    this.inheritance = undefined;
  }

  /** A child waiting for its summary: the agent's stream must run, so it stays awake. */
  get waiting(): boolean {
    return this.untap !== undefined;
  }

  private cloneChecks(): Promise<CloneChecks> {
    const deps = this.agent.deps;
    return Promise.all([deps.verifier(), deps.resolver()]).then(([verifier, resolver]) => ({
      verifier,
      resolver,
      keys: deps.keys,
    }));
  }

  /**
   * The parent's side (inside `ops`, ready): checks the owner's signature
   * and the child (clone/summary.ts) before it reads its memory, spends the
   * signature's nonce, summarizes the kinds that carry under the directive
   * (the owner's, or the template's default), and sends the summary in a new
   * group of just the two of them. Logs sizes, never content.
   */
  async cloneSummary(
    req: CloneSummaryRequest,
    signal?: AbortSignal,
  ): Promise<{ entries: number; bytes: number; via: string }> {
    const agent = this.agent;
    const config = agent.settings.config;
    const group = agent.conversation.group;
    if (!config || !group || agent.status.state !== InstanceState.CLAIMED) {
      throw failedPrecondition(`instance ${agent.id} is not in a conversation: it has nothing to pass on`);
    }
    const {
      auth,
      signature: sig,
      carry,
    } = await checkCloneRequest(
      await this.cloneChecks(),
      {
        instanceId: agent.id,
        inboxId: agent.status.inboxId,
        ownerId: config.ownerId,
        template: runningTemplate(agent),
      },
      req,
    );
    if (!(await (await agent.nonces()).spend(sig.nonce, Number(sig.issuedAt) + 2 * CLONE_SIGNATURE_MAX_AGE_SECONDS))) {
      throw nonceUsed("authorization.signature.nonce");
    }
    // What was said just before the clone is learned before it is summarized.
    await withTimeout(agent.turns.idle(), 10_000);
    const memory = agent.memory.current;
    if (!memory) throw failedPrecondition(`instance ${agent.id} has no memory loaded: it is not in a conversation`);
    const directive = auth.contextPrompt || agent.settings.runningContent()?.cloneDirective || "";
    // Made for another conversation: the owner's own entries and lines only (clone/summary.ts cloneSelection).
    const history = await agent.conversation.history(group);
    const input = {
      model: config.model,
      directive,
      carry,
      ...cloneSelection({ memory, history, carry, ownerId: config.ownerId }),
    };
    let via: "llm" | "offline" = agent.llm.kind === "offline" ? "offline" : "llm";
    let entries: NewEntry[];
    try {
      entries = await agent.llm.summarize(input, signal);
    } catch (err) {
      agent.log.warn("the model could not summarize for a clone; the offline selection goes instead", { err });
      via = "offline";
      entries = await new OfflineProvider().summarize(input);
    }
    // What a clone carries from this agent when its owner asks for nothing else (clone/binding.ts);
    // who taught each entry goes with it (docs/memory.md, "Provenance").
    const carried = { model: config.modelOverridden ? config.model : "", userConfig: config.userConfig };
    const summary = buildSummary(auth, directive, withProvenance(entries, memory), via, carried);
    const encoded = cloneSummaryCodec.encode(summary) as { content: Uint8Array };
    const pair = await agent.status.mustClient().conversations.createGroup([req.childInboxId]);
    await pair.send(encoded as never);
    agent.log.info("clone summary sent", {
      childInstanceId: req.childInstanceId,
      childInboxId: req.childInboxId,
      entries: summary.entries.length,
      bytes: encoded.content.byteLength,
      carry,
      via,
    });
    return { entries: summary.entries.length, bytes: encoded.content.byteLength, via };
  }

  /**
   * The child's side: while it has a parent and no summary yet, it listens
   * for one in every group none of its conversations (the agent's stream,
   * plus a sweep of what came before), until SUMMARY_WAIT_MS after it was
   * configured.
   */
  async awaitSummary(): Promise<void> {
    const agent = this.agent;
    const config = agent.settings.config;
    if (!config?.parent || !agent.conversation.current || agent.status.stopped || this.untap) return;
    if (this.inheritance && this.inheritance.state !== "waiting") return;
    const left = Date.parse(config.configuredAt) + SUMMARY_WAIT_MS - Date.now();
    if (left <= 0) {
      await this.setInheritance(timedOut());
      return;
    }
    if (!this.inheritance) await this.setInheritance({ state: "waiting", at: new Date().toISOString() });
    this.untap = await agent.conversations.tapOthers({
      heard: (m) => {
        if (isCloneSummary(m)) this.offerSummary(m);
      },
      // What came while the stream was down is read back.
      restarted: () => void this.sweepForSummary(),
    });
    this.summaryTimer = setTimeout(() => {
      void agent.turns.run(async () => {
        if (this.inheritance?.state !== "waiting") return;
        await this.setInheritance(timedOut());
        await this.endSummaryStream();
      });
    }, left);
    this.summaryTimer.unref();
    await this.watchGroups();
    await this.sweepForSummary();
    this.sweepAgain(SWEEP_FIRST_MS);
  }

  /** Each group made while it waits, read at once: its first message may be the summary, before the stream carries it. */
  private async watchGroups(): Promise<void> {
    const agent = this.agent;
    const client = agent.status.client;
    if (!client) return;
    try {
      const stream = await client.conversations.streamGroups({
        retryDelay: agent.deps.streamRetryMs ?? 2_000,
        retryAttempts: Number.MAX_SAFE_INTEGER,
        onError: (err) => agent.log.warn("a clone's group stream failed", { err }),
        onRestart: () => void this.sweepForSummary(),
      });
      if (!this.untap) {
        await Promise.resolve(stream.end()).catch(() => undefined);
        return;
      }
      this.groups = stream;
      void (async () => {
        try {
          for await (const g of stream) if (g && !agent.conversations.has(g.id)) await this.readForSummary(g);
        } catch (err) {
          if (this.groups === stream) agent.log.warn("a clone's group stream ended", { err });
        }
      })();
    } catch (err) {
      agent.log.warn("a clone could not watch new groups; its sweeps look for the summary", { err });
    }
  }

  /** The last messages of `group`, a summary among them offered. */
  private async readForSummary(group: AgentGroup): Promise<void> {
    await group.sync();
    for (const m of await group.messages({ limit: 10 })) if (isCloneSummary(m)) this.offerSummary(m);
  }

  /** The next sweep in `ms`, while it waits; each after it twice as long, up to SWEEP_MAX_MS. */
  private sweepAgain(ms: number): void {
    if (!this.untap || this.inheritance?.state !== "waiting") return;
    this.sweepTimer = setTimeout(() => {
      void this.sweepForSummary().finally(() => this.sweepAgain(Math.min(ms * 2, SWEEP_MAX_MS)));
    }, ms);
    this.sweepTimer.unref();
  }

  /** Summaries that came while it was not streaming (before the stream began, a restart). */
  private async sweepForSummary(): Promise<void> {
    const agent = this.agent;
    const client = agent.status.client;
    const parent = agent.settings.config?.parent;
    if (!client || !parent || this.inheritance?.state !== "waiting") return;
    try {
      await client.conversations.sync();
      for (const g of client.conversations.listGroups())
        if (!agent.conversations.has(g.id)) await this.readForSummary(g);
    } catch (err) {
      agent.log.warn("looking for a clone summary failed", { err });
    }
  }

  /** Between turns, so that the next turn answers with what it inherited. */
  private offerSummary(m: AgentMessage): void {
    void this.agent.turns
      .run(() => this.takeSummary(m))
      .catch((err: unknown) => this.agent.log.error("taking in a clone summary failed", { err }));
  }

  /** One summary only, and only the one clone/summary.ts accepts; anything else is ignored and logged (never its content). */
  private async takeSummary(m: AgentMessage): Promise<void> {
    const agent = this.agent;
    const config = agent.settings.config;
    const convo = agent.conversation.current;
    if (!config?.parent || !convo || this.inheritance?.state !== "waiting" || agent.conversations.has(m.conversationId))
      return;
    const group = (await agent.status.mustClient().conversations.getConversationById(m.conversationId)) as
      | AgentGroup
      | undefined;
    const members = group ? await group.members() : [];
    let entries: NewEntry[];
    try {
      const content = agent.settings.runningContent();
      if (!content) throw new Error("this agent has no template to check the summary against");
      entries = await checkSummary(
        await this.cloneChecks(),
        {
          ownerId: config.ownerId,
          parent: config.parent,
          inviteHash: convo.inviteHash ?? "",
          template: runningTemplate(agent),
          content,
          config: { model: config.model, userConfig: config.userConfig },
        },
        { senderInboxId: m.senderInboxId, memberCount: members.length, summary: m.content as CloneSummary },
      );
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      agent.log.warn("a clone summary was refused", {
        senderInboxId: m.senderInboxId,
        conversationId: m.conversationId,
        reason,
      });
      // From the parent itself: it will not send another; the owner sees why.
      if (m.senderInboxId === config.parent.inboxId) {
        await this.setInheritance({ state: "refused", reason, at: new Date().toISOString() });
        await this.endSummaryStream();
      }
      return;
    }
    const memory = agent.memory.current;
    if (!memory) throw new Error("a clone summary came while the agent held no memory");
    const added = memory.add(entries);
    await agent.memory.save(memory);
    await this.setInheritance({ state: "inherited", entries: added.length, at: new Date().toISOString() });
    await this.endSummaryStream();
    const kinds: Record<string, number> = {};
    for (const a of added) kinds[a.kind] = (kinds[a.kind] ?? 0) + 1;
    agent.log.info("clone summary taken in", { parentInstanceId: config.parent.instanceId, inherited: kinds });
  }

  private async setInheritance(file: InheritanceFile): Promise<void> {
    await this.agent.ws.writeJson(FILES.inheritance, file);
    this.inheritance = file;
  }

  /** The wait over (a summary taken or refused, the time up, a stop): it hears no group for it any longer. */
  endSummaryStream(): Promise<void> {
    clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    const groups = this.groups;
    this.groups = undefined;
    if (groups) void Promise.resolve(groups.end()).catch(() => undefined);
    this.untap?.();
    this.untap = undefined;
    return Promise.resolve();
  }
}

/** The template an agent runs: the id and creator of the release it verified (agent/face/configure.ts, agent/face/update.ts). */
function runningTemplate(agent: InheritanceParts): { templateId: string; creatorId: string } {
  return {
    templateId: agent.settings.config?.templateId ?? "",
    creatorId: agent.settings.signedTemplate()?.creatorId ?? "",
  };
}

function timedOut(): InheritanceFile {
  return { state: "timed_out", reason: "no summary came from the parent in time", at: new Date().toISOString() };
}
