// Which conversation a text or a mail from outside belongs to (one agent in
// several conversations: docs/tools.md, "One number, one mailbox"). The
// agent has one number and one mailbox for all its conversations; what it
// sent from a conversation's turn is recorded with that conversation, and
// the answer comes back there: a mail replying to a thread into that
// thread's; a text from a number into the one conversation that texted it
// (within TEXT_ROUTE_DAYS), or to the owner alone when several did (an SMS
// names no thread: which conversation it answers nobody can tell, and each
// may hold what the other must not read); anything else into the home,
// where unknown senders are told. The answer is a label's `where`
// (walls/labels.ts). Pure: the store (store.ts) reads and writes
// `tool-routes.json`, whoever receives a text or a mail asks here. Not here:
// whether the conversation routed to still holds the agent (a left one is
// the caller's to replace with the home).

import type { Where } from "../../walls/labels.js";

/** How long a number the agent texted stays with each conversation that texted it. */
export const TEXT_ROUTE_DAYS = 30;
const TEXT_ROUTE_MS = TEXT_ROUTE_DAYS * 24 * 60 * 60_000;

/**
 * At most this many numbers and this many mails are kept, the oldest dropped
 * first. The file is read for every text and mail that comes in and sealed
 * with the workspace: 1000 entries of about 100 bytes is 100 KB at most, and
 * still more than 30 distinct numbers a day for the 30 days a text route
 * lasts (a turn makes at most 6 tool calls). A dropped route is safe: its
 * answer goes to the home, as an unknown sender's does.
 */
export const MAX_TEXT_ROUTES = 1000;
export const MAX_MAIL_ROUTES = 1000;

/** A number the agent texted: from which conversation, when (ms since the epoch). */
export interface TextRoute {
  number: string;
  conversationId: string;
  atMs: number;
}

/** A mail the agent sent: its Message-ID (without angle brackets), its thread if the mailbox names one. */
export interface MailRoute {
  messageId: string;
  threadId?: string;
  conversationId: string;
  atMs: number;
}

/** What `tool-routes.json` holds (version 1), oldest first in each list. */
export interface ToolRoutes {
  version: 1;
  texts: TextRoute[];
  mails: MailRoute[];
}

export const NO_ROUTES: ToolRoutes = { version: 1, texts: [], mails: [] };

/** What a call sent that an answer may come back to: a text to a number, a mail (its Message-ID, its thread). */
export type Sent = { kind: "text"; number: string } | { kind: "mail"; messageId: string; threadId?: string };

/** A mail that came in, as far as routing reads it: what it replies to, and its thread. */
export interface IncomingMail {
  inReplyTo?: string;
  /** The References header (oldest first, space-separated) or its ids. */
  references?: string | readonly string[];
  threadId?: string;
}

/** A Message-ID as compared: without its angle brackets and spaces. */
export function bareMessageId(id: string): string {
  return id.trim().replace(/^<|>$/g, "");
}

/** The routes with a text to `number` sent from `conversationId` at `atMs`: one entry a number and conversation, newest last, capped. */
export function recordText(routes: ToolRoutes, number: string, conversationId: string, atMs: number): ToolRoutes {
  const texts = [
    ...routes.texts.filter((r) => r.number !== number || r.conversationId !== conversationId),
    { number, conversationId, atMs },
  ];
  return { ...routes, texts: texts.slice(-MAX_TEXT_ROUTES) };
}

/** The routes with a mail sent from `conversationId`: its Message-ID (and thread), newest last, capped. */
export function recordMail(
  routes: ToolRoutes,
  sent: { messageId: string; threadId?: string },
  conversationId: string,
  atMs: number,
): ToolRoutes {
  const messageId = bareMessageId(sent.messageId);
  const route: MailRoute = { messageId, conversationId, atMs, ...(sent.threadId ? { threadId: sent.threadId } : {}) };
  const mails = [...routes.mails.filter((r) => r.messageId !== messageId), route];
  return { ...routes, mails: mails.slice(-MAX_MAIL_ROUTES) };
}

/**
 * Where a text from `fromNumber` goes: the one conversation that texted it
 * within TEXT_ROUTE_DAYS; the owner alone when several did; else the home.
 */
export function routeText(routes: ToolRoutes, home: string, fromNumber: string, nowMs: number): Where {
  const texted = new Set(
    routes.texts.filter((r) => r.number === fromNumber && nowMs - r.atMs <= TEXT_ROUTE_MS).map((r) => r.conversationId),
  );
  if (texted.size > 1) return { ownerOnly: true };
  return { conversation: [...texted][0] ?? home };
}

/**
 * The conversation a mail goes to: that of the mail it replies to
 * (In-Reply-To, then References from the newest), or of its thread; else the home.
 */
export function routeMail(routes: ToolRoutes, home: string, message: IncomingMail): string {
  const refs = typeof message.references === "string" ? message.references.split(/\s+/) : (message.references ?? []);
  const ids = [message.inReplyTo ?? "", ...[...refs].reverse()].map(bareMessageId).filter((id) => id !== "");
  for (const id of ids) {
    const sent = routes.mails.findLast((r) => r.messageId === id);
    if (sent) return sent.conversationId;
  }
  const thread = message.threadId && routes.mails.findLast((r) => r.threadId === message.threadId);
  return thread ? thread.conversationId : home;
}

/** Routes read from disk, anything malformed left out (a hand-edited or older file routes to the home). */
export function parseRoutes(raw: unknown): ToolRoutes {
  if (typeof raw !== "object" || raw === null) return NO_ROUTES;
  const { texts, mails } = raw as { texts?: unknown; mails?: unknown };
  const str = (v: unknown) => typeof v === "string" && v !== "";
  const obj = (r: unknown): r is Record<string, unknown> => typeof r === "object" && r !== null;
  const okText = (r: unknown) => obj(r) && str(r.number) && str(r.conversationId) && Number.isFinite(r.atMs);
  const okMail = (r: unknown) => obj(r) && str(r.messageId) && str(r.conversationId) && Number.isFinite(r.atMs);
  return {
    version: 1,
    texts: (Array.isArray(texts) ? (texts as TextRoute[]).filter(okText) : []).slice(-MAX_TEXT_ROUTES),
    mails: (Array.isArray(mails) ? (mails as MailRoute[]).filter(okMail) : []).slice(-MAX_MAIL_ROUTES),
  };
}
