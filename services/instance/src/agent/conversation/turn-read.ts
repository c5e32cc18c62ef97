// What a turn reads, decided in one call as it begins (readTurn;
// docs/instance.md, "A turn"), so that the turn's I/O asks once and goes
// on: what of its conversation it reads, its memory within the walls
// (memory/walls.ts) and the recent lines as the model reads them (policy.ts
// historyLines); who started it and whose request a call is
// (tools/gate/permissions.ts), the lines masked for its starter, the memory
// its starter may see, where each piece came from (turn-origins.ts), the act
// chooser's call (choosing.ts) and the model's input (policy.ts). What it
// is given is gathered by the I/O around it (carry-out.ts, routine-turn.ts)
// and asked by the turn (answer.ts, routine-turn.ts).
// Pure: the rules are the files named, run in this order; turn-read.test.ts
// checks them in memory.

import type { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { ResolvedParticipation } from "@convos-pool/kit/content";
import type { HistoryLine, InboundTextTurn, TurnInput } from "../../model/turn.js";
import type { PromptLimits } from "../../model/caps.js";
import type { FunctionSpec } from "../../tools/functions/tool.js";
import { withCredentialsMasked, withoutAddress, type Memory } from "../../memory/store.js";
import { memoryIn, type Walls } from "../../memory/walls.js";
import { readerOf, type Requester } from "../../tools/gate/permissions.js";
import { linesFor } from "../../walls/views.js";
import type { Reader } from "../../walls/labels.js";
import type { Role } from "../../platform/roles.js";
import type { AgentMessage, TextMessage } from "../../platform/xmtp.js";
import type { InstanceConfig } from "../state/settings.js";
import { chooserCall, type ChooserCall, type ContactBook } from "./choosing.js";
import { saidOf } from "./plan.js";
import { historyLines, senderName, turnInput, type WhoIsWho } from "./policy.js";
import { turnOrigins, type TurnRead } from "./turn-origins.js";

/** The recent conversation as the model reads it, up to `m` (and ending with it) when given. */
export function conversationLines(
  who: WhoIsWho,
  names: Readonly<Record<string, string>>,
  recent: readonly AgentMessage[],
  m: TextMessage | undefined,
  outside: ReadonlySet<string>,
): HistoryLine[] {
  return historyLines(who, names, recent.map(saidOf), m ? { ...saidOf(m), text: m.content } : undefined, outside);
}

/** What of its conversation a turn reads, as carry-out.ts (or routine-turn.ts) gathered it. */
export interface ConversationHeard {
  /** Its whole memory, and the walls it is read within. */
  memory: Memory;
  walls: Walls;
  conversationId: string;
  who: WhoIsWho;
  names: Readonly<Record<string, string>>;
  /** The recent messages, oldest first. */
  recent: readonly AgentMessage[];
  /** The message the turn answers; none for a text to its number. */
  m?: TextMessage | undefined;
  /** Its own messages that carry words from outside (outside-words.ts). */
  outside: ReadonlySet<string>;
}

/** The memory this conversation reads (memory/walls.ts), and its recent lines up to the message the turn answers. */
function conversationRead(c: ConversationHeard): { memory: Memory; history: HistoryLine[] } {
  return {
    memory: memoryIn(c.memory, c.conversationId, c.walls),
    history: conversationLines(c.who, c.names, c.recent, c.m, c.outside),
  };
}

/** What a turn is, as it begins: what answer.ts knows and has gathered of its conversation, nothing read yet. */
export interface TurnAsked extends ConversationHeard {
  config: InstanceConfig;
  /** IDENTITY.md as read now. */
  identity: string;
  /** Who started it: the owner, a member, or an outsider (a text to its number). */
  role: Role;
  /** The text to its number it answers (`m` is none then). */
  inboundText?: InboundTextTurn | undefined;
  /** Its owner lets it answer a text from outside (permissions.ts); otherwise it only passes it on. */
  answersOutsiders: boolean;
  level: TrustLevel;
  participation: ResolvedParticipation;
  functions: FunctionSpec[];
  callTool: NonNullable<TurnInput["callTool"]>;
  correcting?: string | undefined;
  forgot?: number | undefined;
  limits: PromptLimits;
  /** The owner's address book: the owner's turns only. */
  contacts?: ContactBook | undefined;
  stop?: AbortSignal | undefined;
}

/** What a turn reads and is given, decided at once. */
export interface TurnReading {
  /** Whose request a call is (tools/gate/gate.ts), with where everything the model reads came from. */
  who: Requester;
  /** Who reads what the turn makes (walls/labels.ts). */
  reader: Reader;
  /** The lines the model reads: the walls' view, masked for a starter not the owner. */
  history: HistoryLine[];
  read: TurnRead;
  /** The act chooser's call, from the request alone (choosing.ts). */
  chooser: ChooserCall;
  input: TurnInput;
  /** The owner's message without the name it is said to: what a plain yes to an open request is read in. */
  said?: string | undefined;
}

/**
 * Everything a turn reads, in order: who started it (the owner by inbox id,
 * never by name), what of its conversation it reads (conversationRead),
 * the lines its reader may read of it (linesFor) with a credential's lines
 * masked in a turn not the owner's, the memory its starter may see
 * (Memory.visibleTo), where each piece came from, the chooser's call (the
 * request alone), the model's input.
 */
export function readTurn(t: TurnAsked): TurnReading {
  const { config, m, inboundText } = t;
  const who: Requester = inboundText
    ? { role: "outsider", id: inboundText.from, name: inboundText.from }
    : { role: t.role, id: m?.senderInboxId ?? "", name: senderName(t.names, m?.senderInboxId ?? "") };
  if (t.stop) who.stop = t.stop;
  who.conversationId = t.conversationId;
  const reader = readerOf(who, t.conversationId);
  const { memory, history: lines } = conversationRead(t);
  // Lines that carry a credential are masked in a turn not the owner's (docs/memory.md, "Provenance").
  const history = withCredentialsMasked(linesFor(lines, t.conversationId, reader), who.role, memory);
  const read: TurnRead = {
    history,
    memory: memory.visibleTo(who.role).entries,
    identity: t.identity,
    userConfig: config.userConfig,
    names: t.names,
    inboundText,
  };
  // Where everything the model reads came from: what an act that asks tells the owner (gate.ts).
  who.origins = turnOrigins(read);
  const chooser = chooserCall({
    ...read,
    model: config.model,
    who,
    tools: config.tools.map((x) => x.toolId),
    contacts: t.contacts,
  });
  const input = turnInput({
    config,
    identity: t.identity,
    level: t.level,
    participation: t.participation,
    memory,
    history,
    functions: t.functions,
    callTool: t.callTool,
    // Whether it may answer is its owner's to say (permissions.ts); the gate holds it to one text back.
    inboundText: inboundText && { ...inboundText, answer: t.answersOutsiders },
    correcting: t.correcting,
    // What of its memory the model may see: credentials in the owner's turns only.
    role: who.role,
    forgot: t.forgot,
    limits: t.limits,
    reader,
  });
  const said = who.role === "owner" && m ? withoutAddress(m.content, config.agentName) : undefined;
  return { who, reader, history, read, chooser, input, ...(said !== undefined ? { said } : {}) };
}
