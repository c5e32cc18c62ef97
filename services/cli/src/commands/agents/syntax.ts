// The syntax of claiming an agent, and what its owner does with it (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import { PAGE, type CommandSyntax } from "../../core/syntax.js";

export const AGENT_COMMANDS = {
  claim: {
    args: ["TEMPLATE_ID", "INVITE"],
    options: ["model", "config", "second-agent"],
    synopsis: "TEMPLATE_ID INVITE [--model M] [--config TOOL_ID=VALUE ...] [--second-agent]",
    summary:
      "add an agent of a template to a Convos conversation (its invite); you own it; --second-agent where one of the template is already there",
  },
  agents: { args: [], options: ["limit", "cursor"], synopsis: PAGE, summary: "my agents, across templates" },
  agent: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "one of my agents, with its instruction-sync state, trust level, permissions and when it speaks",
  },
  pin: { args: ["ID"], options: [], synopsis: "ID", summary: "keep my agent on the template version it runs" },
  unpin: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "let my agent follow the template's updates again (it catches up at once)",
  },
  remove: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "remove my agent for good: it leaves its conversation, its tools are released",
  },
  withdraw: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "take my share of my agent's wallet (above the pool's grant, less the fee) to my key's address",
  },
  clone: {
    args: ["ID", "INVITE"],
    options: ["directive", "carry", "model", "config"],
    synopsis:
      "ID INVITE [--directive TEXT] [--carry training,personalization,credentials] [--model M] [--config TOOL_ID=VALUE ...]",
    summary: "clone my agent into another conversation with what it learned (default carry: training,personalization)",
  },
  transfer: {
    args: ["ID", "INBOX_ID"],
    options: [],
    synopsis: "ID INBOX_ID",
    summary: "offer my agent to another inbox; it is theirs once they accept",
  },
  "withdraw-transfer": {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "take back my open offer of this agent; the agent voids it too",
  },
  accept: { args: ["ID"], options: [], synopsis: "ID", summary: "accept an agent offered to me" },
  trust: {
    args: ["ID", "LEVEL"],
    options: ["daily-limit"],
    synopsis: "ID L1|L2|L3|L4 [--daily-limit ETH]",
    summary:
      "set my agent's trust level (--daily-limit: the most its wallet may pay in a day, in ETH; L4 needs it; L2 and L3 may have it, each payment also waiting for my yes, and without it the agent pays nothing; L1 takes none)",
  },
  permissions: {
    args: ["ID"],
    options: ["member-sms", "member-email", "member-crypto", "outsider-reply", "approvals"],
    synopsis:
      "ID [--member-sms allow|ask|refuse] [--member-email allow|ask|refuse] [--member-crypto allow|ask|refuse] [--outsider-reply none|ask|answer] [--approvals conversation|direct]",
    summary:
      "set whose requests my agent acts on: whether another member may have it text, mail or pay (allow; ask: ask me first; refuse), whether it answers texts from outside (none, ask, answer) and where it asks my approval (conversation: there, for everyone to read; direct: in my direct conversation with it, the group told only that I was asked); options not given keep their current values",
  },
  participation: {
    args: ["ID"],
    options: ["mode", "cooldown", "conversation"],
    synopsis: "ID [--mode auto|speak|mention|paused] [--cooldown SECONDS] [--conversation CONVERSATION]",
    summary:
      "set when my agent speaks in its conversation: auto (speak alone with one person, mention in a group), speak, mention (only when named or replied to) or paused, and the least time between its answers (0 to 86400 seconds); an option not given keeps its current value; --conversation: in that one of its conversations (its id, as `conversations` lists it), else its home",
  },
  activity: {
    args: ["ID"],
    options: ["limit", "cursor"],
    synopsis: `ID ${PAGE}`,
    summary: "my agent's activity log, newest first: its tool calls and how each ended",
  },
  lineage: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "an agent's lineage: where it was cloned from, and its clones",
  },
  dashboard: {
    args: ["TEMPLATE_ID"],
    options: [],
    synopsis: "TEMPLATE_ID",
    summary: "my template's agents: live, clones, depth, owners",
  },
  family: {
    args: [],
    options: ["ended", "limit", "cursor"],
    synopsis: `[--ended] ${PAGE}`,
    summary: "my agents with their lineage (ended ones too with --ended)",
  },
} as const satisfies Record<string, CommandSyntax>;
