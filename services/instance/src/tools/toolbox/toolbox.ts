// What a claimed agent holds besides its conversation: its trust level
// (trust.json), its activity log, money ledger and the questions it asked for
// members (asks.jsonl), its owner's address book (address-book.ts), its tools
// and the gate every call goes through, questions to its owner waiting for an
// answer, and the watch that tells the conversation about new mail. The agent
// (agent/) owns the conversation and calls in here; this owns the files of
// tools and trust.

import { formatEther } from "viem";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  ActivityEntrySchema,
  ToolCallOutcome,
  type ActivityEntry,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { decodePageToken, encodePageToken, pageSize, type Logger } from "@convos-pool/kit/server";
import {
  failedPrecondition,
  effectiveMaxTrustLevel,
  resolvePermissions,
  trustLevelName,
  type ResolvedPermissions,
} from "@convos-pool/kit/content";
import { FILES, type Workspace } from "../../platform/workspace.js";
import { ActivityLog } from "../gate/activity.js";
import { AddressBook } from "../address-book/store.js";
import { AskLog } from "../gate/asks.js";
import { AgentTools, type ToolEnvironment } from "../functions/agent-tools.js";
import {
  APPROVAL_TIMEOUT_MS,
  answersSome,
  approvalPlace,
  approvalAnswer,
  approvalButtons,
  approvalQuestion,
  askedDirectly,
  copiesButtons,
  type ApprovalButtons,
  type AskedIn,
  type AskedQuestion,
  type OwnerAnswer,
} from "../approvals/policy.js";
import { RouteStore } from "../routing/store.js";
import { ToolGate, type Approval, type ToolOutcome, type ToolSignal } from "../gate/gate.js";
import { MoneyLedger } from "../gate/ledger.js";
import { describePermissions, readerOf, type Requester } from "../gate/permissions.js";
import { mailboxFor } from "../routing/mailbox-view.js";
import type { Where } from "../../walls/labels.js";
import type { FunctionSpec, PaymentMade } from "../functions/tool.js";
import { initialTrust, type TrustFile } from "../trust/levels.js";

/** What GetFunds answers: amounts in wei, as decimal text. */
export interface Funds {
  walletAddress: string;
  balanceWei: string;
  spentTodayWei: string;
  /** Empty below L4. */
  dailySpendLimitWei: string;
  trustLevel: TrustLevel;
}

export interface ToolboxDeps {
  ws: Workspace;
  log: Logger;
  /** Where its tools reach their providers; none: it holds tools it cannot use. */
  env?: ToolEnvironment;
  /** How long a call waits for the owner's approval; default APPROVAL_TIMEOUT_MS (10 minutes). */
  approvalTimeoutMs?: number;
  /** How often it looks for new mail; default 30 s. */
  mailPollMs?: number;
  /** What its owner's address book is sealed with at rest (its wallet's InstanceWallet.addressBookKey); none: it keeps none. */
  addressBookKey?(): Uint8Array | undefined;
  /** An approval asked or declined, a call that failed: for the agent's daily counts (agent/state/signals.ts). */
  signal?(s: ToolSignal): void;
  /**
   * Says something in its conversation: the message's id, or undefined when it is in none. `outside`: the text
   * carries words from outside the conversation (a mail's subject), which later turns must not read as its own.
   * `replyTo`: said as a reply to that message, whatever turn runs.
   */
  say(text: string, outside?: boolean, replyTo?: Said): Promise<string | undefined>;
  /** Shows an approval question's buttons (XMTP `actions`) in its conversation, right after the question. */
  buttons?(buttons: ApprovalButtons): Promise<unknown>;
  /**
   * Its owner's direct conversation with it (agent/voice/direct.ts), where questions go when the owner chose so
   * (Permissions.approvals) or is not a member (approvalPlace); none: every question is asked in its conversation,
   * or not at all when the owner is not in it.
   */
  direct?: DirectLine;
  /** Its conversation's name, as a question asked directly names it. */
  conversationName?(): string;
  /** Whether its tools act in the conversation at hand (its owner may have added it somewhere with none); none: they do. */
  toolsHere?(): boolean;
  /** The id of the conversation its turns run in, which what it texts and mails is recorded with (routing.ts). */
  conversationId?(): string | undefined;
  /**
   * The conversation what was routed to `conversationId` is told in (routing.ts; "": routed nowhere): it while the
   * agent is there, else its home. None: the mailbox is read whole, wherever a turn runs.
   */
  placeOf?(conversationId: string): string;
  /**
   * Runs `job` in the conversation `conversationId` (what `say` reaches is that conversation's), in its home when
   * none is named or it is no longer there: where a mail answering one sent from a conversation is told
   * (routing.ts). None: `say` reaches the conversation at hand (outside any turn, the home).
   */
  within?: (conversationId: string | undefined, job: () => Promise<void>) => Promise<void>;
  /** Posts a payment it made in its conversation (a transaction reference). */
  paid(payment: PaymentMade): Promise<unknown>;
  /** Its owner, as the conversation names them. */
  ownerName(): string;
  /** Runs a job between the agent's turns. */
  betweenTurns(job: () => Promise<void>): Promise<void>;
  /**
   * Waits for the owner's answer without holding the agent's other turns up (agent/turns/serial.ts Turns.park): the turn
   * that asked goes on once it comes. None: the turn waits in its place.
   */
  park?<T>(answer: Promise<T>): Promise<T>;
}

/** The owner's direct conversation with the agent, as the toolbox asks there. */
export interface DirectLine {
  /** Asks `text` there, hearing the owner's answers there from now on: the message's id, or undefined when it could not. */
  ask(text: string): Promise<string | undefined>;
  /** The question's buttons, right after it. */
  buttons(buttons: ApprovalButtons): Promise<unknown>;
  /** No question waits there any more: it need not listen. */
  idle(): void;
}

/** A message of its conversation, as a reply names it. */
export interface Said {
  id: string;
  senderInboxId: string;
}

/** A call waiting for the owner's yes or no: the message that asked (once its send returned), and answers and copies of its buttons' ids that came before it did. */
interface Waiting {
  question?: AskedQuestion;
  /** The act in full, as asked; and when it was asked and stops waiting (ms since the epoch). */
  statement: string;
  askedAtMs: number;
  expiresAtMs: number;
  /** Asked in the owner's direct conversation, not in its own. */
  direct: boolean;
  early: OwnerAnswer[];
  copies: string[][];
  resolve: (a: Approval) => void;
}

/** A question waiting for the owner's answer, as the owner's listing shows it. */
export interface WaitingQuestion {
  /** The id of the message that asked it. */
  id: string;
  statement: string;
  askedAtMs: number;
  expiresAtMs: number;
}

/** What an agent of a claim holds: its tools' handles, its owner's settings. */
export interface HeldTools {
  tools: { toolId: string; handle: string }[];
  userConfig: Record<string, string>;
}

/** mail.json: the mail it has told the conversation about (ids). */
interface MailSeenFile {
  seen: string[];
}

/** permissions.json: what the owner last set (absent: the defaults). */
interface PermissionsFile {
  permissions: ResolvedPermissions;
  setAt: string;
}

export class AgentToolbox {
  private trust: TrustFile | undefined;
  private permissions: ResolvedPermissions = resolvePermissions(undefined);
  private activity: ActivityLog | undefined;
  private ledger: MoneyLedger | undefined;
  private asks: AskLog | undefined;
  private book: AddressBook | undefined;
  private tools: AgentTools | undefined;
  private readonly gate: ToolGate;
  /** Which conversation each number it texted and each mail it sent belongs to (routing.ts). */
  private readonly routes: RouteStore;
  /**
   * Calls waiting for the owner's yes or no: several, since a turn that asks
   * steps aside for the next (park), which may ask too. Each answer is bound
   * to its own question's message all the same (approval.ts).
   */
  private readonly approvals = new Set<Waiting>();
  private mailTimer: NodeJS.Timeout | undefined;
  private mailSeen: Set<string> | undefined;

  constructor(private readonly deps: ToolboxDeps) {
    this.gate = new ToolGate({
      tools: () => this.tools,
      trust: () => this.trust ?? initialTrust(TrustLevel.OBSERVER),
      permissions: () => this.permissions,
      // The gate reads them only for tools, which load() gives after opening both.
      activity: () => {
        if (!this.activity) throw new Error("the activity log is read before load() opened it");
        return this.activity;
      },
      ledger: () => {
        if (!this.ledger) throw new Error("the money ledger is read before load() opened it");
        return this.ledger;
      },
      asks: () => {
        if (!this.asks) throw new Error("the questions asked are read before load() opened them");
        return this.asks;
      },
      ask: (statement, outside) => this.askOwner(statement, outside),
      // Each conversation's turns read its own threads of the one mailbox (mailbox-view.ts).
      mailView: (who) => {
        if (!deps.placeOf) return undefined;
        const reader = readerOf(who, who.conversationId ?? deps.conversationId?.() ?? "");
        return (m) => mailboxFor(m, reader, async (mail) => deps.placeOf?.(await this.routes.mailFrom(mail, "")) ?? "");
      },
      paid: (payment) => deps.paid(payment),
      // Unknown conversation: nothing recorded, and its answer goes to the home, where it went before routes.
      sent: async (sent) => {
        const conversation = deps.conversationId?.();
        if (conversation) await this.routes.record(sent, conversation);
      },
      signal: (s) => deps.signal?.(s),
      log: deps.log,
    });
    this.routes = new RouteStore(deps.ws, deps.log);
  }

  /** Its wallet's address and balance, for its owner (AgentTools.walletNotice); undefined without a wallet. */
  walletNotice(): Promise<string | undefined> {
    return this.tools?.walletNotice() ?? Promise.resolve(undefined);
  }

  /** Its wallet's balance in wei (AgentTools.walletBalance); undefined without a wallet it reaches. */
  walletBalance(): Promise<bigint | undefined> {
    return this.tools?.walletBalance() ?? Promise.resolve(undefined);
  }

  /** Its level (L1 while it holds nothing). */
  get level(): TrustLevel {
    return this.trust?.level ?? TrustLevel.OBSERVER;
  }

  get snapshot(): TrustFile | undefined {
    return this.trust;
  }

  /** Whose requests it acts on. */
  get grants(): ResolvedPermissions {
    return this.permissions;
  }

  /** Its owner's address book (address-book.ts): none before load(), after a release, or without a key. */
  get addressBook(): AddressBook | undefined {
    return this.book;
  }

  /** A question to its owner is waiting: it must stay awake to hear the answer (agent/life/dormancy.ts). */
  get waitingForOwner(): boolean {
    return this.approvals.size > 0;
  }

  /** A new owner (a transfer): the address book was the old owner's, so it goes. */
  async forgetAddressBook(): Promise<void> {
    if (this.book) await this.book.clear();
    else await this.deps.ws.remove(FILES.addressBook);
  }

  /** A new claim: it starts at its template's starting level, with an empty log and no mail told. */
  async begin(templateMax: TrustLevel): Promise<void> {
    this.activity = undefined;
    this.ledger = undefined;
    this.asks = undefined;
    this.book = undefined;
    this.mailSeen = undefined;
    this.permissions = resolvePermissions(undefined);
    const files = [FILES.mail, FILES.activity, FILES.ledger, FILES.asks, FILES.permissions, FILES.addressBook];
    // Routes name the conversations of the claim before.
    for (const f of [...files, FILES.toolRoutes]) await this.deps.ws.remove(f);
    await this.deps.ws.writeJson(FILES.trust, initialTrust(templateMax));
  }

  /** Its level, log and tools from the workspace (configure, restart, update), with the tools' secrets. */
  async load(held: HeldTools, secrets: Record<string, Record<string, string>>, templateMax: TrustLevel): Promise<void> {
    this.trust = (await this.deps.ws.readJson<TrustFile>(FILES.trust)) ?? initialTrust(templateMax);
    this.permissions = resolvePermissions(
      (await this.deps.ws.readJson<PermissionsFile>(FILES.permissions))?.permissions,
    );
    this.activity ??= await ActivityLog.open(this.deps.ws);
    this.ledger ??= await MoneyLedger.open(this.deps.ws);
    this.asks ??= await AskLog.open(this.deps.ws);
    const bookKey = this.deps.addressBookKey?.();
    if (bookKey) this.book ??= await AddressBook.open(this.deps.ws, bookKey);
    this.tools?.close();
    this.tools = undefined;
    const env = this.deps.env;
    if (held.tools.length === 0 || !env) return;
    this.tools = new AgentTools(env, held.tools, secrets, held.userConfig, this.deps.log, this.deps.ws.instanceId);
    // Texts to its number come to this host.
    const number = held.tools.find((t) => t.toolId === "sms")?.handle;
    if (number && env.sms?.profileId) {
      await env.sms.client
        .assignNumber(number, env.sms.profileId)
        .catch((err: unknown) => this.deps.log.warn("could not route its number's texts to this host", { err }));
    }
  }

  /**
   * Where a text from `fromNumber` goes (routing.ts): the one conversation whose turns texted that number, the owner
   * alone when several did, else `home`. Answered in the order asked, after every send recorded before.
   */
  textFrom(fromNumber: string, home: string): Promise<Where> {
    return this.routes.textFrom(fromNumber, home);
  }

  /** The functions of the tools it holds and can reach. */
  functions(): FunctionSpec[] {
    if (this.deps.toolsHere?.() === false) return [];
    return this.tools?.specs() ?? [];
  }

  /** One call for whoever started the turn, through the gate; none where its owner turned its tools off. */
  call(name: string, args: Record<string, unknown>, who: Requester): Promise<ToolOutcome> {
    if (this.deps.toolsHere?.() === false) {
      this.deps.log.warn("a tool call in a conversation without tools: refused", { tool: name });
      return Promise.resolve({ ok: false, error: "not done: my owner turned my tools off in this conversation" });
    }
    return this.gate.call(name, args, who);
  }

  /**
   * The owner's reply, reaction or tap, if it answers the waiting question:
   * handed over, and true. One that comes before the question's send
   * returned (its id unknown yet) is kept until it did.
   */
  answer(a: OwnerAnswer): boolean {
    for (const waiting of this.approvals) {
      if (waiting.question === undefined) continue;
      const said = approvalAnswer(waiting.question, a);
      if (!said) continue;
      waiting.resolve(said);
      return true;
    }
    // Maybe the answer to a question whose send has not returned: each such question looks at it once it has.
    const unsent = [...this.approvals].filter((w) => w.question === undefined);
    if (unsent.length === 0 || !answersSome(a)) return false;
    for (const waiting of unsent) waiting.early.push(a);
    return true;
  }

  /**
   * The questions waiting for the owner's answer, once asked (their message
   * sent), oldest first: what an owner outside the conversation answers
   * (ApprovalService; tools/approval-service.ts).
   */
  waitingQuestions(): WaitingQuestion[] {
    return [...this.approvals]
      .filter((w): w is Waiting & { question: AskedQuestion } => w.question !== undefined)
      .map((w) => ({ id: w.question.id, statement: w.statement, askedAtMs: w.askedAtMs, expiresAtMs: w.expiresAtMs }))
      .sort((a, b) => a.askedAtMs - b.askedAtMs);
  }

  /**
   * The owner's signed answer, from outside the conversation, to the waiting
   * question `id` (its signature checked by the caller): handed over, and
   * true; false when no question of that id is waiting (answered, timed out,
   * never asked), and then nothing happens.
   */
  answerSigned(id: string, said: "yes" | "no"): boolean {
    for (const waiting of this.approvals) {
      if (waiting.question?.id !== id) continue;
      waiting.resolve(said);
      return true;
    }
    return false;
  }

  /**
   * Buttons someone else posted, by their ids: if they copy the waiting
   * question's, a tap can no longer say which were meant, and the question's
   * buttons answer nothing from now on (its message still does).
   */
  buttonsSeen(ids: readonly string[]): void {
    for (const waiting of this.approvals) {
      if (waiting.question === undefined) waiting.copies.push([...ids]);
      else if (!waiting.question.copied && copiesButtons(waiting.question.id, ids)) {
        waiting.question.copied = true;
        this.deps.log.warn("someone posted buttons that copy the waiting question's: taps on them approve nothing");
      }
    }
  }

  /** A level the owner set (the instance checked the signature), or one a new template version imposes; recorded. */
  async setLevel(level: TrustLevel, dailySpendLimitWei: string, why: string, byOwner: boolean): Promise<TrustFile> {
    const before = this.level;
    // The owner's limit holds at every level that moves money (L2 to L4); L1 moves none.
    const kept = level >= TrustLevel.ADVISOR && /^[1-9]\d*$/.test(dailySpendLimitWei) ? dailySpendLimitWei : "0";
    const trust: TrustFile = { level, dailySpendLimitWei: kept, setAt: new Date().toISOString(), byOwner };
    await this.deps.ws.writeJson(FILES.trust, trust);
    this.trust = trust;
    const limit = kept !== "0" ? `, spending at most ${formatEther(BigInt(kept))} ETH a day` : "";
    await this.activity?.record({
      toolId: "trust",
      action: "set_trust_level",
      outcome: ToolCallOutcome.DONE,
      detail: `${trustLevelName(before)} → ${trustLevelName(level)}, ${why}${limit}`,
      trustLevel: level,
    });
    this.deps.log.info("trust level set", { from: trustLevelName(before), to: trustLevelName(level) });
    if (level >= TrustLevel.ADVISOR) this.watchMail();
    else this.stopWatchingMail();
    return trust;
  }

  /** Permissions the owner set (the instance checked the signature); recorded. */
  async setPermissions(permissions: ResolvedPermissions): Promise<ResolvedPermissions> {
    await this.deps.ws.writeJson(FILES.permissions, {
      permissions,
      setAt: new Date().toISOString(),
    } satisfies PermissionsFile);
    this.permissions = permissions;
    await this.activity?.record({
      toolId: "permissions",
      action: "set_permissions",
      outcome: ToolCallOutcome.DONE,
      detail: `set by the owner: ${describePermissions(permissions)}`,
      trustLevel: this.level,
    });
    this.deps.log.info("permissions set", { permissions: describePermissions(permissions) });
    return permissions;
  }

  /** A new version whose highest level is below the agent's brings the agent down to it. */
  async clamp(templateMax: TrustLevel, version: string): Promise<void> {
    const max = effectiveMaxTrustLevel(templateMax);
    const trust = this.trust;
    if (!trust || trust.level <= max) return;
    await this.setLevel(
      max,
      trust.dailySpendLimitWei,
      `version ${version} of the template allows at most ${trustLevelName(max)}`,
      trust.byOwner,
    );
  }

  /** Its activity log, newest first. */
  async listActivity(req: {
    pageSize: number;
    pageToken: string;
  }): Promise<{ entries: ActivityEntry[]; nextPageToken: string }> {
    const limit = pageSize(req.pageSize);
    const after = decodePageToken(req.pageToken, 1);
    const log = this.activity ?? (await ActivityLog.open(this.deps.ws));
    const page = log.list(limit, after?.[0] as string | undefined);
    return {
      entries: page.entries.map((e) => create(ActivityEntrySchema, { ...e, at: timestampFromDate(new Date(e.at)) })),
      nextPageToken: page.next ? encodePageToken([page.next]) : "",
    };
  }

  /**
   * Its money for its owner's page (GetFunds): the wallet's balance, read
   * from the chain, and what the ledger counts as spent in the last 24 hours
   * against its daily limit. FAILED_PRECONDITION without a wallet this host
   * reaches; UNAVAILABLE when the chain does not answer.
   */
  async funds(now = Date.now()): Promise<Funds> {
    const address = this.tools?.walletAddress;
    if (!address) throw failedPrecondition("the agent holds no wallet");
    let balance: bigint | undefined;
    try {
      balance = await this.tools?.walletBalance();
    } catch {
      // The chain's own words may name its URL: the owner is told only that it did not answer.
      throw new ConnectError("its wallet's chain did not answer; try again shortly", Code.Unavailable);
    }
    this.ledger ??= await MoneyLedger.open(this.deps.ws);
    const ledger = this.ledger;
    const trust = this.trust ?? initialTrust(TrustLevel.OBSERVER);
    return {
      walletAddress: address,
      balanceWei: (balance ?? 0n).toString(),
      spentTodayWei: ledger.spentWei(now).toString(),
      dailySpendLimitWei:
        trust.level === TrustLevel.AUTONOMOUS && trust.dailySpendLimitWei !== "0" ? trust.dailySpendLimitWei : "",
      trustLevel: trust.level,
    };
  }

  /**
   * Asks its owner in a message of its own that states the action in full,
   * and waits for the owner's reply to it, reaction on it or tap on its
   * buttons, which `answer` hands over (approval.ts); no answer in time is a
   * no. The turn that asked steps aside while it waits (park): the owner and
   * the others are answered meanwhile, and it goes on when the answer comes.
   * `outside`: the statement may quote words from outside the conversation,
   * and is said as such.
   */
  private async askOwner(statement: string, outside: boolean): Promise<Approval> {
    const { answered } = await this.pose(statement, outside);
    return this.deps.park ? this.deps.park(answered) : answered;
  }

  /**
   * Asks its owner about something of its own, not a tool call (a save to
   * the address book: agent/conversation/address-book-requests.ts), exactly as a call is
   * asked: the statement in full, answered only by the owner's reply, reaction
   * or tap (approval.ts); no answer in time is a no. Parks no turn: its caller
   * waits outside the agent's turns, and the conversation goes on meanwhile.
   * `about`: the message it asks about, which the question replies to.
   */
  async ask(statement: string, about?: Said): Promise<Approval> {
    return (await this.pose(statement, false, about)).answered;
  }

  /**
   * The question said (its buttons after it), and its answer to come: in its
   * conversation, or, where the owner chose, in the owner's direct
   * conversation, its own told only that the owner was asked. Never both:
   * what the owner keeps between the two is not said in the group when the
   * direct conversation cannot be reached; it is not done ("unasked").
   */
  private async pose(statement: string, outside: boolean, about?: Said): Promise<{ answered: Promise<Approval> }> {
    const ms = this.deps.approvalTimeoutMs ?? APPROVAL_TIMEOUT_MS;
    const expiresAtMs = Date.now() + ms;
    const place = approvalPlace(this.permissions.approvals, this.deps.conversationName?.() ?? "");
    // No direct conversation to ask in: its own, where the owner reads it (or answers from the pool's approvals page).
    const direct = place.kind === "direct" ? this.deps.direct : undefined;
    const where: AskedIn = direct ? place : { kind: "conversation" };
    // Waiting before asking: the owner's answer can come back through the stream before the send returns.
    let waiting!: Waiting;
    const answered = new Promise<Approval>((resolve) => {
      const timer = setTimeout(() => done("timeout"), ms);
      const done = (a: Approval) => {
        clearTimeout(timer);
        this.approvals.delete(waiting);
        if (waiting.direct && ![...this.approvals].some((w) => w.direct)) this.deps.direct?.idle();
        resolve(a);
      };
      const asked = { statement, askedAtMs: Date.now(), expiresAtMs, direct: where.kind === "direct" };
      waiting = { early: [], copies: [], resolve: done, ...asked };
      this.approvals.add(waiting);
    });
    const text = approvalQuestion(this.deps.ownerName(), statement, ms, where);
    const question = await (direct ? direct.ask(text) : this.deps.say(text, outside, about)).catch((err: unknown) => {
      waiting.resolve("timeout");
      throw err;
    });
    if (question === undefined) waiting.resolve(direct ? "unasked" : "timeout");
    else {
      waiting.question = { id: question, copied: waiting.copies.some((ids) => copiesButtons(question, ids)) };
      for (const a of waiting.early) {
        const said = approvalAnswer(waiting.question, a);
        if (said) waiting.resolve(said);
      }
      if (direct)
        await this.deps
          .say(askedDirectly(this.deps.ownerName()), false, about)
          .catch((err: unknown) => this.deps.log.warn("could not say the owner was asked directly", { err }));
      if (this.approvals.has(waiting)) {
        const buttons = approvalButtons(question, this.deps.ownerName(), statement, expiresAtMs, where);
        await this.showButtons(buttons, direct);
      }
    }
    return { answered };
  }

  /** The question as buttons too, for clients that show them; best effort: its message asks it already. */
  private async showButtons(buttons: ApprovalButtons, direct?: DirectLine): Promise<void> {
    await (direct ? direct.buttons(buttons) : this.deps.buttons?.(buttons))?.catch((err: unknown) =>
      this.deps.log.warn("could not show the question's buttons", { err }),
    );
  }

  /** From L2 up, while it is in its conversation: new mail is told there. */
  watchMail(): void {
    if (this.mailTimer || !this.tools?.mail || this.level < TrustLevel.ADVISOR) return;
    const poll = () =>
      void this.deps
        .betweenTurns(() => this.noticeMail())
        .catch((err: unknown) => this.deps.log.warn("looking for new mail failed", { err }));
    this.mailTimer = setInterval(poll, this.deps.mailPollMs ?? 30_000);
    this.mailTimer.unref();
    poll();
  }

  private stopWatchingMail(): void {
    clearInterval(this.mailTimer);
    this.mailTimer = undefined;
  }

  /**
   * Sender, subject and id of each new mail, like a phone that rings; reading it is a call like any other. Told in
   * the conversation that sent the mail it answers (routing.ts routeMail), else in the home (outside any turn, the
   * conversation `say` reaches).
   */
  private async noticeMail(): Promise<void> {
    const mail = this.tools?.mail;
    if (!mail || this.level < TrustLevel.ADVISOR) return;
    this.mailSeen ??= new Set((await this.deps.ws.readJson<MailSeenFile>(FILES.mail))?.seen ?? []);
    const seen = this.mailSeen;
    const fresh = (await mail.list({ limit: 20 })).filter((m) => !seen.has(m.id)).reverse();
    if (fresh.length === 0) return;
    for (const m of fresh) {
      let told: string | undefined;
      const tell = async () => {
        told = await this.deps.say(
          `New mail from ${m.from}: “${m.subject || "(no subject)"}” (id ${m.id}). Ask me to read it.`,
          true,
        );
      };
      const within = this.deps.within;
      if (within) {
        // "": no conversation sent what it answers, and the home is told.
        const routed = await this.routes.mailFrom(m, "");
        await within(routed || undefined, tell);
      } else await tell();
      if (told === undefined) return;
      seen.add(m.id);
    }
    await this.deps.ws.writeJson(FILES.mail, { seen: [...seen].slice(-500) } satisfies MailSeenFile);
    this.deps.log.info("new mail noticed", { count: fresh.length });
  }

  /** Stops watching, refuses a waiting question and closes the tools (stop, release). */
  close(): void {
    this.stopWatchingMail();
    for (const waiting of this.approvals) waiting.resolve("timeout");
    this.tools?.close();
  }

  /** The claim is over: nothing of it stays, in memory or on disk. */
  async release(): Promise<void> {
    this.close();
    for (const f of [
      FILES.trust,
      FILES.activity,
      FILES.ledger,
      FILES.asks,
      FILES.mail,
      FILES.permissions,
      FILES.addressBook,
    ])
      await this.deps.ws.remove(f);
    this.book = undefined;
    this.permissions = resolvePermissions(undefined);
    this.tools = undefined;
    this.trust = undefined;
    this.activity = undefined;
    this.ledger = undefined;
    this.asks = undefined;
    this.mailSeen = undefined;
  }
}
