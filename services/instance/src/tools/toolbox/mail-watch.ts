// New mail told in a conversation, like a phone that rings: from L2 up, the
// mailbox is looked at every 30 s between the agent's turns, and each new
// mail's sender, subject and id are said in the conversation that sent the
// mail it answers (routing/policy.ts routeMail), else in the home. Reading a
// mail is a call like any other, through the gate. What was told is kept in
// mail.json, so a restart tells nothing twice.

import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { Logger } from "@convos-pool/kit/server";
import { FILES, type Workspace } from "../../platform/workspace.js";
import type { Mailbox } from "../providers/mail.js";
import type { RouteStore } from "../routing/store.js";

/** What the watch uses of its agent (the toolbox's deps, ToolboxDeps, hold them). */
export interface MailWatchDeps {
  ws: Workspace;
  log: Logger;
  /** How often it looks for new mail; default 30 s. */
  mailPollMs?: number;
  /** Says something in its conversation (`outside`: words from outside it); the message's id, or undefined. */
  say(text: string, outside?: boolean): Promise<string | undefined>;
  /**
   * Runs `job` in the conversation `conversationId` (what `say` reaches is that conversation's), in its home when
   * none is named or it is no longer there. None: `say` reaches the conversation at hand (outside any turn, the home).
   */
  within?: (conversationId: string | undefined, job: () => Promise<void>) => Promise<void>;
  /** Runs a job between the agent's turns. */
  betweenTurns(job: () => Promise<void>): Promise<void>;
}

/** mail.json: the mail it has told the conversation about (ids). */
interface MailSeenFile {
  seen: string[];
}

export class MailWatch {
  private timer: NodeJS.Timeout | undefined;
  private seen: Set<string> | undefined;

  /** `mailbox`: its mail tool's, when it holds one; `level`: its trust level now. */
  constructor(
    private readonly deps: MailWatchDeps,
    private readonly mailbox: () => Mailbox | undefined,
    private readonly level: () => TrustLevel,
    private readonly routes: RouteStore,
  ) {}

  /** From L2 up, while it holds a mailbox: new mail is told. */
  watch(): void {
    if (this.timer || !this.mailbox() || this.level() < TrustLevel.ADVISOR) return;
    const poll = () =>
      void this.deps
        .betweenTurns(() => this.notice())
        .catch((err: unknown) => this.deps.log.warn("looking for new mail failed", { err }));
    this.timer = setInterval(poll, this.deps.mailPollMs ?? 30_000);
    this.timer.unref();
    poll();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A new claim or a release: what was told is read again from mail.json (or its absence). */
  forget(): void {
    this.seen = undefined;
  }

  /**
   * Sender, subject and id of each new mail. Told in the conversation that sent the mail it answers (routing/policy.ts
   * routeMail), else in the home (outside any turn, the conversation `say` reaches).
   */
  private async notice(): Promise<void> {
    const mail = this.mailbox();
    if (!mail || this.level() < TrustLevel.ADVISOR) return;
    this.seen ??= new Set((await this.deps.ws.readJson<MailSeenFile>(FILES.mail))?.seen ?? []);
    const seen = this.seen;
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
}
