// An instance's workspace: a directory of its own under the host's data
// directory that survives restarts. Layout (docs/instance.md):
//
//   <dataDir>/instances/<instanceId>/      mode 0700
//     instance.json     who it is: id, wallet index, address, inbox id
//     IDENTITY.md       the instructions it runs on (read at every turn)
//     config.json       template, owner, model, tools (handles only), user config
//     credentials.json  tool secrets, AES-256-GCM under a key derived from its wallet
//     memory.json       what it learned: training, personalization; who taught each
//     memory-credentials.json  credentials entries, AES-256-GCM under a key derived from its wallet
//     address-book.json  its owner's contacts, AES-256-GCM under a key derived from its wallet (tools/address-book/store.ts)
//     conversations.json  its conversations: the home's id; each one's id, invite tag and hash, creator,
//                       joinedAt, tools, state (agent/conversation/files.ts)
//     conversations/<conversation id>/   one folder per conversation (agent/conversation/files.ts)
//       state.json      who is who there and how far it has read
//       join.json       the invite it joined with (rejoined with after a move)
//       participation.json  when it speaks there: speak, mention, paused; a cooldown (agent/conversation/policy.ts)
//       outside-words.json  ids of its messages there that carry words from outside (agent/state/outside-words.ts)
//       phones.json     what people's phones shared there, sealed under a key derived from its wallet (connections/kept.ts)
//     tool-routes.json  which conversation each number it texted and each mail thread belongs to
//                       (kept off the host with the rest; nothing writes it before tools are routed by conversation)
//     invites.json      invites of released claims, whose groups it leaves (agent/state/invites.ts)
//     inheritance.json  a clone: whether its parent's summary came (counts, never the summary)
//     nonces.json       nonces of owner signatures it acted on (clone/summary.ts, trust levels)
//     trust.json        its trust level and daily spending limit (tools/trust/levels.ts)
//     permissions.json  whose requests it acts on, as its owner signed them (tools/gate/permissions.ts)
//     activity.jsonl    its activity log: every tool call and how it ended (tools/gate/activity.ts)
//     mail.json         ids of the mail it has told the conversation about
//     sharing.json      its owner's pattern-pool choice: offer, adopt (memory/sharing.ts)
//     signals.json      its daily counts for the version it runs, counts only (agent/state/signals.ts)
//     vault.json        the sequence of its newest state kept off the host (host/vault-sender.ts)
//     moved.json        restored from a lost host, not yet back in its conversation (host/restore.ts)
//     xmtp/xmtp.db3     its XMTP client's database (encrypted by the SDK)
//
// Before conversations.json, state.json, join.json, participation.json and
// outside-words.json were at the top; a workspace of then is moved into the
// layout above when the agent starts (agent/conversation/migration.ts).
//
// A destroyed instance whose invites could still be answered keeps only
// instance.json, invites.json and xmtp/ until they expire (host/retiree.ts).
//
// Every file is written whole (temporary file, then rename) with mode 0600,
// or appended to (the .jsonl logs); either way the workspace's `onWrite`
// hears of it, which is how a changed agent is sent off its host.

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { appendFile, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Instance ids name directories: letters, digits, `_` and `-` only (no path tricks). */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export const FILES = {
  instance: "instance.json",
  identity: "IDENTITY.md",
  config: "config.json",
  credentials: "credentials.json",
  memory: "memory.json",
  /** Credentials entries of its memory, sealed (memory/store.ts `diskFiles`). */
  memoryCredentials: "memory-credentials.json",
  /** Its owner's address book, sealed (tools/address-book/store.ts). */
  addressBook: "address-book.json",
  /** Its conversations (agent/conversation/files.ts); each one's own files are in its folder (`conversationFile`). */
  conversations: "conversations.json",
  /** Which conversation each number it texted and each mail thread belongs to. */
  toolRoutes: "tool-routes.json",
  /** Before conversations.json: its one conversation (now each conversation's `state`), moved at start (agent/conversation/migration.ts). */
  state: "state.json",
  /** Before conversations.json: the invite it joined with (now each conversation's `join`). */
  join: "join.json",
  invites: "invites.json",
  inheritance: "inheritance.json",
  /** Restored here from a lost host and not yet back in its conversation, nor said so (host/restore.ts). */
  moved: "moved.json",
  /** Nonces of owner signatures it acted on (platform/nonces.ts). */
  nonces: "nonces.json",
  trust: "trust.json",
  permissions: "permissions.json",
  /** Before conversations.json: when it speaks (now each conversation's `participation`). */
  participation: "participation.json",
  activity: "activity.jsonl",
  /** Before conversations.json: its messages that carry outside words (now each conversation's `outside-words`). */
  outsideWords: "outside-words.json",
  /** Payments, which L4's daily limit is counted from (tools/gate/ledger.ts). */
  ledger: "ledger.jsonl",
  /** Approval questions asked for others than the owner in the last hour (tools/gate/asks.ts). */
  asks: "asks.jsonl",
  mail: "mail.json",
  /** The owner's pattern-pool choice (memory/sharing.ts). */
  sharing: "sharing.json",
  /** What it offered to and adopted from the pattern pool (memory/patterns.ts). */
  patterns: "patterns.json",
  /** Its daily counts for the version it runs (agent/state/signals.ts). */
  signals: "signals.json",
  /** Each conversation's time zone and each scheduled act's bound request (tools/schedules/store.ts). */
  schedules: "schedules.json",
  /** The conversation of two it asks its owner's approval in, when the owner chose so (agent/voice/direct.ts). */
  direct: "direct.json",
  xmtpDir: "xmtp",
  xmtpDb: "xmtp.db3",
} as const;

/** The folder of each conversation's own files. */
export const CONVERSATIONS_DIR = "conversations";

/** A conversation's own files, in its folder. */
export const CONVERSATION_FILES = ["state", "join", "participation", "outside-words", "statement", "phones"] as const;
export type ConversationFileKind = (typeof CONVERSATION_FILES)[number];

/** Conversation ids name folders: XMTP group ids are lowercase hex (no path tricks). */
export const CONVERSATION_ID_PATTERN = /^[0-9a-f]{16,128}$/;

/** The names of every conversation's own files: what the vault carries and opens (platform/vault.ts). */
export const CONVERSATION_FILE_PATTERN =
  /^conversations\/[0-9a-f]{16,128}\/(state|join|participation|outside-words|statement|phones)\.json$/;

/** The name of conversation `conversationId`'s file `kind` in the workspace; a conversation id that is not hex is refused. */
export function conversationFile(conversationId: string, kind: ConversationFileKind): string {
  if (!CONVERSATION_ID_PATTERN.test(conversationId)) {
    throw new Error(`invalid conversation id ${JSON.stringify(conversationId)}`);
  }
  return `${CONVERSATIONS_DIR}/${conversationId}/${kind}.json`;
}

/** join.json: the invite its conversation was joined with. */
export interface JoinFile {
  invite: string;
}

/** moved.json: when it was restored here. */
export interface MovedFile {
  restoredAt: string;
  sequence: string;
}

/** instance.json: public facts, enough to bring the instance back after a restart. */
export interface InstanceRecord {
  instanceId: string;
  walletIndex: number;
  address: string;
  inboxId: string;
  createdAt: string;
  /** StopInstance without destroy: not brought back when the host starts. */
  stopped?: boolean;
  /**
   * Destroyed while an invite it asked to join could still be answered: only
   * its watch runs (host/retiree.ts), and the workspace goes at this time (ISO).
   */
  retiredUntil?: string;
}

export function instancesDir(dataDir: string): string {
  return join(dataDir, "instances");
}

export class Workspace {
  readonly dir: string;

  /** `onWrite`: told the name of every file written or appended to (host/vault-sender.ts). */
  constructor(
    dataDir: string,
    readonly instanceId: string,
    private readonly onWrite?: (name: string) => void,
  ) {
    if (!INSTANCE_ID_PATTERN.test(instanceId)) throw new Error(`invalid instance id ${JSON.stringify(instanceId)}`);
    this.dir = join(instancesDir(dataDir), instanceId);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  get xmtpDbPath(): string {
    return join(this.dir, FILES.xmtpDir, FILES.xmtpDb);
  }

  async create(): Promise<void> {
    await mkdir(join(this.dir, FILES.xmtpDir), { recursive: true, mode: 0o700 });
  }

  async readJson<T>(name: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.path(name), "utf8")) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async writeJson(name: string, value: unknown): Promise<void> {
    await this.writeText(name, `${JSON.stringify(value, null, 2)}\n`);
  }

  async readText(name: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(name), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  /** Whole-file write: a reader sees the old content or the new, never half. A file in a folder (a conversation's) makes the folder. */
  async writeText(name: string, text: string): Promise<void> {
    const path = this.path(name);
    const dir = dirname(path);
    if (dir !== this.dir) await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
    this.onWrite?.(name);
  }

  /** The names in folder `name` of the workspace ([] when it is absent). */
  async list(name: string): Promise<string[]> {
    try {
      return (await readdir(this.path(name))).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  }

  /** Deletes folder `name` of the workspace if it is empty (a conversation's, once its files went). */
  async removeEmptyDir(name: string): Promise<void> {
    try {
      await rmdir(this.path(name));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTEMPTY") throw err;
    }
  }

  /** Appends to a log file (.jsonl). */
  async append(name: string, text: string): Promise<void> {
    await appendFile(this.path(name), text, { mode: 0o600 });
    this.onWrite?.(name);
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
    this.onWrite?.(name);
  }

  /** Deletes every file but `names` (a retired instance keeps only what its watch needs). */
  async keepOnly(names: readonly string[]): Promise<void> {
    for (const entry of await readdir(this.dir)) {
      if (!names.includes(entry)) await rm(join(this.dir, entry), { recursive: true, force: true });
    }
  }

  /** Deletes the whole workspace (StopInstance with destroy). */
  async destroy(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  // ---- credentials, encrypted at rest ----

  /** The tools' secrets (credentials.json). */
  writeSecrets(key: Uint8Array, value: unknown): Promise<void> {
    return this.writeSealed(FILES.credentials, "credentials", key, value);
  }

  readSecrets<T>(key: Uint8Array): Promise<T | undefined> {
    return this.readSealed<T>(FILES.credentials, "credentials", key);
  }

  /**
   * `value` as JSON under AES-256-GCM, a fresh 12-byte IV each write; the
   * associated data names the purpose and the instance, so a file moved to
   * another purpose or instance does not open.
   */
  async writeSealed(name: string, purpose: string, key: Uint8Array, value: unknown): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(`convos-pool/${purpose}:${this.instanceId}`));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    await this.writeJson(name, {
      alg: "AES-256-GCM",
      iv: iv.toString("base64"),
      data: body.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
    });
  }

  async readSealed<T>(name: string, purpose: string, key: Uint8Array): Promise<T | undefined> {
    const sealed = await this.readJson<{ iv: string; data: string; tag: string }>(name);
    if (!sealed) return undefined;
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64"));
    decipher.setAAD(Buffer.from(`convos-pool/${purpose}:${this.instanceId}`));
    decipher.setAuthTag(Buffer.from(sealed.tag, "base64"));
    const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64")), decipher.final()]).toString(
      "utf8",
    );
    return JSON.parse(text) as T;
  }
}

/** Instance ids with a workspace under dataDir. */
export async function listWorkspaces(dataDir: string): Promise<string[]> {
  try {
    const entries = await readdir(instancesDir(dataDir), { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && INSTANCE_ID_PATTERN.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
