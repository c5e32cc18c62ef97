// The agent-memory file (docs/memory.md): one agent's memory as its owner
// takes it away and brings it to another agent of theirs. Versioned, like
// Letta's agent file; secrets are stripped and named, so the owner can supply
// them again on import. The agent seals what it exports (memory/seal.ts), and
// an import keeps who taught each entry only from a file whose seal holds:
// anything else is nobody's word. Pure functions: memory/service.ts
// reads the workspace, signs the seal, checks it, and seals and opens the box.

import { invalidArgument } from "@convos-pool/kit/content";
import { isRole } from "./provenance.js";
import type { MemorySeal } from "./seal.js";
import {
  isKind,
  maskSecrets,
  nobodys,
  type Memory,
  type MemoryEntry,
  type MemoryFeedback,
  type NewEntry,
} from "./store.js";

export { maskSecrets };

export const MEMORY_FILE_FORMAT = "convos-pool.agent-memory";
export const MEMORY_FILE_VERSION = 1;
/** Lines of conversation an offline summary keeps, and characters of each. */
export const SUMMARY_LINES = 20;
export const SUMMARY_LINE_CHARS = 200;

export interface AgentMemoryFile {
  format: typeof MEMORY_FILE_FORMAT;
  version: typeof MEMORY_FILE_VERSION;
  exportedAt: string;
  agent: { instanceId: string; inboxId: string; name: string };
  template: { templateId: string; creatorId: string; version: string; baseVersions: string[] };
  /** What it learned, credentials entries left out (named in `secrets`). */
  entries: MemoryEntry[];
  conversationSummary: ConversationSummary;
  /** What was stripped, by name; never a value. */
  secrets: NamedSecret[];
  /**
   * The exporting agent's seal over the entries and the secrets' names
   * (memory/seal.ts): only a file an agent of this same owner sealed keeps
   * who taught its entries on import.
   */
  seal?: MemorySeal;
  /**
   * Import only: values for named secrets ("memory:<entry id>" → the
   * credential). Beside `secrets`, not in it, so the list the agent wrote
   * stays as it was.
   */
  suppliedSecrets?: Record<string, string>;
}

export interface ConversationSummary {
  /** Text messages the summary was made from. */
  messages: number;
  /** Members of the conversation when it was exported. */
  participants: number;
  /** "llm": one model call summarized it; "offline": the last lines, cut short. */
  via: "llm" | "offline";
  lines: string[];
}

/** A secret left out of the file: "tool:<toolId>.<field>", "config:<key>" or "memory:<entry id>". */
export interface NamedSecret {
  name: string;
  kind: "tool" | "config" | "memory";
  /** What it is, with numbers and key-like tokens masked. */
  about: string;
}

/** Entries by kind and source: MemoryCounts in memory.proto. */
export interface EntryCounts {
  training: number;
  personalization: number;
  credentials: number;
  feedback: number;
  adopted: number;
}

export interface ExportInput {
  agent: AgentMemoryFile["agent"];
  template: AgentMemoryFile["template"];
  entries: readonly MemoryEntry[];
  conversationSummary: ConversationSummary;
  /** credentials.json: secrets by tool id and field. */
  toolCredentials: Record<string, Record<string, string>>;
  userConfig: Record<string, string>;
}

/** The file, with every secret stripped and named. */
export function buildMemoryFile(input: ExportInput, now = new Date()): AgentMemoryFile {
  const secrets: NamedSecret[] = [];
  for (const [toolId, fields] of Object.entries(input.toolCredentials)) {
    for (const field of Object.keys(fields))
      secrets.push({ name: `tool:${toolId}.${field}`, kind: "tool", about: `the ${field} of the ${toolId} tool` });
  }
  for (const key of Object.keys(input.userConfig))
    secrets.push({ name: `config:${key}`, kind: "config", about: `the owner's setting ${key}` });
  const entries: MemoryEntry[] = [];
  for (const e of input.entries) {
    if (e.kind === "credentials") secrets.push({ name: `memory:${e.id}`, kind: "memory", about: maskSecrets(e.text) });
    else entries.push({ ...e });
  }
  return {
    format: MEMORY_FILE_FORMAT,
    version: MEMORY_FILE_VERSION,
    exportedAt: now.toISOString(),
    agent: input.agent,
    template: input.template,
    entries,
    conversationSummary: input.conversationSummary,
    secrets,
  };
}

export function countEntries(entries: readonly MemoryEntry[]): EntryCounts {
  const counts: EntryCounts = { training: 0, personalization: 0, credentials: 0, feedback: 0, adopted: 0 };
  for (const e of entries) {
    counts[e.kind]++;
    if (e.feedback) counts.feedback++;
    if (e.adoptedFrom) counts.adopted++;
  }
  return counts;
}

// ---- import ----

/** The file as the owner sealed it; anything but an agent-memory file of a known version is refused naming `sealed`. */
export function parseMemoryFile(plaintext: Uint8Array): AgentMemoryFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext));
  } catch {
    throw invalidArgument("sealed", "does not open to JSON: expected an agent-memory file (docs/memory.md)");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw invalidArgument("sealed", "is not a JSON object: expected an agent-memory file");
  const file = parsed as Partial<AgentMemoryFile>;
  if (file.format !== MEMORY_FILE_FORMAT) throw invalidArgument("sealed", `format is not "${MEMORY_FILE_FORMAT}"`);
  if (file.version !== MEMORY_FILE_VERSION)
    throw invalidArgument(
      "sealed",
      `version ${JSON.stringify(file.version)} is not one this agent reads (${MEMORY_FILE_VERSION})`,
    );
  if (!Array.isArray(file.entries)) throw invalidArgument("sealed", "entries is not a list");
  if (file.secrets !== undefined && !Array.isArray(file.secrets))
    throw invalidArgument("sealed", "secrets is not a list");
  const supplied = file.suppliedSecrets;
  if (
    supplied !== undefined &&
    (typeof supplied !== "object" ||
      supplied === null ||
      Array.isArray(supplied) ||
      Object.values(supplied).some((v) => typeof v !== "string"))
  ) {
    throw invalidArgument("sealed", "suppliedSecrets is not a map of names to text");
  }
  return file as AgentMemoryFile;
}

export interface ImportReport {
  added: EntryCounts;
  duplicates: number;
  skipped: number;
  secretsMissing: string[];
}

/** Whose word an import is: the agent's owner, and the inbox of the agent whose seal held (memory/seal.ts), if one did. */
export interface ImportWord {
  ownerId?: string | undefined;
  /** Set only when the file's seal held: an agent of this same owner exported it. */
  sealedBy?: string | undefined;
}

/**
 * Merges the file's entries (and the credentials supplied for its named
 * memory secrets) into `memory`: Memory.add leaves out what it already knows
 * (same kind and text), and what is past the imported entries' share
 * (memory/teacher-shares.ts) is counted as skipped. Added entries are marked
 * imported. From a file whose seal held (`sealedBy`: this owner's own
 * export), they keep where they came from (inherited, feedback, adopted),
 * who taught them (role, `from`, conversation) and the owner's mark to use
 * them in all their conversations (another owner's is dropped), and a credential supplied
 * again is the owner's. From any other file, every entry and credential is
 * nobody's word (store.ts `nobodys`): no role, no teacher, never the
 * owner's, whatever the file says. Tool and config secrets are the pool's
 * provisioning and the claim's settings: never imported, always missing.
 */
export function mergeMemoryFile(memory: Memory, file: AgentMemoryFile, word: ImportWord = {}): ImportReport {
  const sealedBy = word.sealedBy;
  const candidates: NewEntry[] = [];
  let skipped = 0;
  for (const raw of file.entries) {
    const entry = candidateOf(raw);
    if (entry)
      candidates.push(sealedBy !== undefined ? { ...sharedHere(entry, word.ownerId), sealedBy } : nobodys(entry));
    else skipped++;
  }
  const supplied = file.suppliedSecrets ?? {};
  const secretsMissing: string[] = [];
  for (const s of file.secrets ?? []) {
    const name = typeof s?.name === "string" ? s.name : "";
    if (!name) continue;
    const value = supplied[name]?.trim();
    if (name.startsWith("memory:") && value) {
      const credential: NewEntry = { kind: "credentials", text: value, via: "rule", imported: true };
      // The owner typed it again for their own export: theirs. Beside a file that is not, it is nobody's like the rest.
      candidates.push(
        sealedBy !== undefined && word.ownerId
          ? { ...credential, role: "owner", from: word.ownerId, sealedBy }
          : nobodys(credential),
      );
    } else secretsMissing.push(name);
  }
  // The owner's own import, counted to the owner, who reads every entry (the listing): known is known anywhere.
  const { added, duplicates, unkept } = memory.addCounted(candidates, memory.entries);
  return { added: countEntries(added), duplicates, skipped: skipped + unkept, secretsMissing };
}

function candidateOf(raw: unknown): NewEntry | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const e = raw as Partial<MemoryEntry>;
  if (!isKind(e.kind) || typeof e.text !== "string" || !e.text.trim()) return undefined;
  const feedback = feedbackOf(e.feedback);
  return {
    kind: e.kind,
    text: e.text,
    via: e.via === "llm" ? "llm" : "rule",
    imported: true,
    ...(typeof e.from === "string" ? { from: e.from } : {}),
    // A member's version loses what it disputed (ids of the other agent): it is kept as that member's.
    ...(isRole(e.role) ? { role: e.role } : {}),
    ...(typeof e.conversationId === "string" ? { conversationId: e.conversationId } : {}),
    ...(typeof e.messageId === "string" ? { messageId: e.messageId } : {}),
    ...(typeof e.confirmedBy === "string" ? { confirmedBy: e.confirmedBy } : {}),
    ...(typeof e.inheritedFrom === "string" ? { inheritedFrom: e.inheritedFrom } : {}),
    ...(typeof e.adoptedFrom === "string" ? { adoptedFrom: e.adoptedFrom } : {}),
    ...(feedback ? { feedback } : {}),
    ...(typeof e.sharedBy === "string" ? { sharedBy: e.sharedBy } : {}),
    ...(typeof e.sharedAt === "string" ? { sharedAt: e.sharedAt } : {}),
  };
}

/** An entry keeps its "use this in all my conversations" only when this agent's owner marked it (memory/walls.ts). */
function sharedHere(e: NewEntry, ownerId: string | undefined): NewEntry {
  if (e.sharedBy === undefined || e.sharedBy === ownerId) return e;
  const { sharedBy: _by, sharedAt: _at, ...rest } = e;
  return rest;
}

function feedbackOf(raw: unknown): MemoryFeedback | undefined {
  const f = raw as Partial<MemoryFeedback> | undefined;
  if (!f || typeof f.messageId !== "string" || typeof f.about !== "string") return undefined;
  if (f.signal !== "up" && f.signal !== "down" && f.signal !== "correction") return undefined;
  return { messageId: f.messageId, signal: f.signal, about: f.about.slice(0, 200) };
}
