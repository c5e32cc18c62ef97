// What a claimed agent holds besides its conversation: its trust level and
// permissions (grants.ts), its activity log, money ledger and the questions it asked for
// members (asks.jsonl), its owner's address book (address-book/), its tools
// and the gate every call goes through, questions to its owner waiting for an
// answer (approvals/questions.ts), and the watch that tells the conversation
// about new mail (mail-watch.ts). The agent (agent/) owns the conversation
// and calls in here; this owns the files of tools and trust.

import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ActivityEntrySchema, type ActivityEntry } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { decodePageToken, encodePageToken, pageSize } from "@convos-pool/kit/server";
import {
  failedPrecondition,
  effectiveMaxTrustLevel,
  trustLevelName,
  type ResolvedPermissions,
} from "@convos-pool/kit/content";
import { FILES } from "../../platform/workspace.js";
import type { Where } from "../../walls/labels.js";
import { AddressBook } from "../address-book/store.js";
import type { OwnerAnswer } from "../approvals/policy.js";
import { OwnerQuestions, type QuestionsDeps, type Said, type WaitingQuestion } from "../approvals/questions.js";
import { ActivityLog } from "../gate/activity.js";
import { AskLog } from "../gate/asks.js";
import { ToolGate, type Approval, type ToolOutcome, type ToolSignal } from "../gate/gate.js";
import { MoneyLedger } from "../gate/ledger.js";
import { readerOf, type Requester } from "../gate/permissions.js";
import { AgentTools, type ToolEnvironment } from "../functions/agent-tools.js";
import type { FunctionSpec, PaymentMade } from "../functions/tool.js";
import type { SentBefore } from "../providers/wallet.js";
import { mailboxFor } from "../routing/mailbox-view.js";
import { RouteStore } from "../routing/store.js";
import type { TrustFile } from "../trust/levels.js";
import { Grants } from "./grants.js";
import { MailWatch, type MailWatchDeps } from "./mail-watch.js";

/** What GetFunds answers: amounts in wei, as decimal text. */
export interface Funds {
  walletAddress: string;
  balanceWei: string;
  spentTodayWei: string;
  /** Empty below L4. */
  dailySpendLimitWei: string;
  trustLevel: TrustLevel;
}

/** What a host gives an agent's toolbox; its questions' and its mail watch's needs too (`say`, `ownerName`, ...). */
export interface ToolboxDeps extends QuestionsDeps, MailWatchDeps {
  /** Says something in its conversation (QuestionsDeps.say: `outside`, `replyTo`); the message's id, or undefined. */
  say(text: string, outside?: boolean, replyTo?: Said): Promise<string | undefined>;
  /** Where its tools reach their providers; none: it holds tools it cannot use. */
  env?: ToolEnvironment;
  /** What its owner's address book is sealed with at rest (its wallet's InstanceWallet.addressBookKey); none: it keeps none. */
  addressBookKey?(): Uint8Array | undefined;
  /** An approval asked or declined, a call that failed: for the agent's daily counts (agent/state/signals.ts). */
  signal?(s: ToolSignal, person?: string): void;
  /** Whether its tools act in the conversation at hand (its owner may have added it somewhere with none); none: they do. */
  toolsHere?(): boolean;
  /** The id of the conversation its turns run in, which what it texts and mails is recorded with (routing/). */
  conversationId?(): string | undefined;
  /**
   * The conversation what was routed to `conversationId` is told in (routing/; "": routed nowhere): it while the
   * agent is there, else its home. None: the mailbox is read whole, wherever a turn runs.
   */
  placeOf?(conversationId: string): string;
  /** Posts a payment it made in its conversation (a transaction reference). */
  paid(payment: PaymentMade): Promise<unknown>;
}

/** What an agent of a claim holds: its tools' handles, its owner's settings. */
export interface HeldTools {
  tools: { toolId: string; handle: string }[];
  userConfig: Record<string, string>;
}

export class AgentToolbox {
  /** Its trust level and permissions (grants.ts). */
  private readonly allowed: Grants;
  private activity: ActivityLog | undefined;
  private ledger: MoneyLedger | undefined;
  private asks: AskLog | undefined;
  private book: AddressBook | undefined;
  private tools: AgentTools | undefined;
  private readonly gate: ToolGate;
  /** Which conversation each number it texted and each mail it sent belongs to (routing/policy.ts). */
  private readonly routes: RouteStore;
  /** Its questions to its owner, waiting for an answer (approvals/questions.ts). */
  private readonly questions: OwnerQuestions;
  private readonly mailWatch: MailWatch;

  constructor(private readonly deps: ToolboxDeps) {
    this.gate = new ToolGate({
      tools: () => this.tools,
      trust: () => this.allowed.current,
      permissions: () => this.allowed.granted,
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
      ask: (statement, outside) => this.questions.forCall(statement, outside),
      // Each conversation's turns read its own threads of the one mailbox (routing/mailbox-view.ts).
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
      signal: (s, person) => deps.signal?.(s, person),
      log: deps.log,
    });
    this.routes = new RouteStore(deps.ws, deps.log);
    this.allowed = new Grants(deps.ws, deps.log, () => this.activity);
    this.questions = new OwnerQuestions(deps, () => this.allowed.granted.approvals);
    this.mailWatch = new MailWatch(
      deps,
      () => this.tools?.mail,
      () => this.level,
      this.routes,
    );
  }

  /** Its wallet's address and balance, for its owner (AgentTools.walletNotice); undefined without a wallet. */
  walletNotice(): Promise<string | undefined> {
    return this.tools?.walletNotice() ?? Promise.resolve(undefined);
  }

  /** Its wallet's balance in wei (AgentTools.walletBalance); undefined without a wallet it reaches. */
  walletBalance(): Promise<bigint | undefined> {
    return this.tools?.walletBalance() ?? Promise.resolve(undefined);
  }

  /** The payment `hash` its wallet signed before, as the chain has it now (a scheduled firing's retry); undefined without a wallet. */
  paymentSent(hash: string): Promise<SentBefore> | undefined {
    return this.tools?.paymentSent(hash);
  }

  /** Its level (L1 while it holds nothing). */
  get level(): TrustLevel {
    return this.allowed.level;
  }

  get snapshot(): TrustFile | undefined {
    return this.allowed.snapshot;
  }

  /** Whose requests it acts on. */
  get grants(): ResolvedPermissions {
    return this.allowed.granted;
  }

  /** Its owner's address book (address-book/store.ts): none before load(), after a release, or without a key. */
  get addressBook(): AddressBook | undefined {
    return this.book;
  }

  /** A question to its owner is waiting: it must stay awake to hear the answer (agent/life/dormancy.ts). */
  get waitingForOwner(): boolean {
    return this.questions.any;
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
    this.mailWatch.forget();
    const files = [FILES.mail, FILES.activity, FILES.ledger, FILES.asks, FILES.addressBook];
    // Routes name the conversations of the claim before.
    for (const f of [...files, FILES.toolRoutes]) await this.deps.ws.remove(f);
    await this.allowed.begin(templateMax);
  }

  /** Its level, log and tools from the workspace (configure, restart, update), with the tools' secrets. */
  async load(held: HeldTools, secrets: Record<string, Record<string, string>>, templateMax: TrustLevel): Promise<void> {
    await this.allowed.load(templateMax);
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
   * Where a text from `fromNumber` goes (routing/policy.ts): the one conversation whose turns texted that number, the owner
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

  /** The owner's reply, reaction or tap, if it answers a waiting question: handed over, and true (approvals/questions.ts). */
  answer(a: OwnerAnswer): boolean {
    return this.questions.answer(a);
  }

  /** The questions waiting for the owner's answer, oldest first: what ApprovalService lists (approvals/service.ts). */
  waitingQuestions(): WaitingQuestion[] {
    return this.questions.list();
  }

  /** The owner's signed answer, from outside the conversation, to the waiting question `id`: false when none such waits. */
  answerSigned(id: string, said: "yes" | "no"): boolean {
    return this.questions.answerSigned(id, said);
  }

  /** Buttons someone else posted: a waiting question whose buttons they copy is answered by its message only. */
  buttonsSeen(ids: readonly string[]): void {
    this.questions.buttonsSeen(ids);
  }

  /** A level the owner set (the instance checked the signature), or one a new template version imposes; recorded. */
  async setLevel(level: TrustLevel, dailySpendLimitWei: string, why: string, byOwner: boolean): Promise<TrustFile> {
    const trust = await this.allowed.setLevel(level, dailySpendLimitWei, why, byOwner);
    if (level >= TrustLevel.ADVISOR) this.watchMail();
    else this.mailWatch.stop();
    return trust;
  }

  /** Permissions the owner set (the instance checked the signature); recorded. */
  setPermissions(permissions: ResolvedPermissions): Promise<ResolvedPermissions> {
    return this.allowed.setPermissions(permissions);
  }

  /** A new version whose highest level is below the agent's brings the agent down to it. */
  async clamp(templateMax: TrustLevel, version: string): Promise<void> {
    const max = effectiveMaxTrustLevel(templateMax);
    const trust = this.allowed.snapshot;
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
    const trust = this.allowed.current;
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
   * Asks its owner about something of its own, not a tool call (a save to
   * the address book), exactly as a call is asked (approvals/questions.ts);
   * no answer in time is a no. Parks no turn. `about`: the message it asks
   * about, which the question replies to.
   */
  ask(statement: string, about?: Said): Promise<Approval> {
    return this.questions.ask(statement, about);
  }

  /** Asks its owner alone, in their direct conversation with it where it has one (approvals/questions.ts askPrivately). */
  askPrivately(statement: string): Promise<Approval> {
    return this.questions.askPrivately(statement);
  }

  /** From L2 up, while it is in its conversation: new mail is told there (mail-watch.ts). */
  watchMail(): void {
    this.mailWatch.watch();
  }

  /** Stops watching, refuses a waiting question and closes the tools (stop, release). */
  close(): void {
    this.mailWatch.stop();
    this.questions.refuseAll();
    this.tools?.close();
  }

  /** The claim is over: nothing of it stays, in memory or on disk. */
  async release(): Promise<void> {
    this.close();
    await this.allowed.release();
    for (const f of [FILES.activity, FILES.ledger, FILES.asks, FILES.mail, FILES.addressBook])
      await this.deps.ws.remove(f);
    this.book = undefined;
    this.tools = undefined;
    this.activity = undefined;
    this.ledger = undefined;
    this.asks = undefined;
    this.mailWatch.forget();
  }
}
