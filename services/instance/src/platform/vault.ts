// An agent's durable state, sealed so that it can be kept off its host
// (docs/scaling.md, "A host lost for good"). Pure but for reading and writing
// the workspace: what is in a state (`collectState`), how it is sealed
// (`sealState`, `openState`) and how a workspace is written back from it
// (`writeState`).
//
// Sealed layout: "CPV1" | iv (12) | AES-256-GCM of gzip(JSON) | tag (16), under
// `InstanceWallet.vaultKey()`. The associated data names the instance and the
// sequence: a state does not open as another agent's, nor as another sequence
// of the same agent's, and a byte changed anywhere makes it refuse to open.

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  CONVERSATION_FILE_PATTERN,
  CONVERSATION_FILES,
  CONVERSATION_ID_PATTERN,
  CONVERSATIONS_DIR,
  conversationFile,
  FILES,
  type Workspace,
} from "./workspace.js";

/** The largest sealed state a host sends or opens. */
export const MAX_SEALED_BYTES = 2 * 1024 * 1024;
/** The most a sealed state may expand to when opened (a small sealed state must not unpack to gigabytes). */
export const MAX_OPEN_BYTES = 32 * 1024 * 1024;
/** Lines of activity.jsonl kept in a state: its recent part (the log is for the owner's view, not for the agent to act on). */
export const ACTIVITY_LINES_KEPT = 200;

const MAGIC = Buffer.from("CPV1");
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The workspace files that make up an agent's durable state. Everything in
 * the workspace but its XMTP database (a new installation is made where it
 * comes back), dormant.json (it comes back awake) and vault.json (the
 * sequence, which the state itself carries). Each conversation's own files
 * are durable too (`DURABLE_PATTERN`). state.json, join.json,
 * participation.json and outside-words.json at the top are a workspace's
 * from before conversations.json: a state sealed then still opens, and the
 * agent moves them into its conversation's folder when it starts
 * (agent/conversation/migration.ts).
 */
export const DURABLE_FILES: readonly string[] = [
  FILES.instance,
  FILES.conversations,
  FILES.toolRoutes,
  FILES.identity,
  FILES.config,
  FILES.credentials,
  FILES.memory,
  FILES.memoryCredentials,
  FILES.addressBook,
  FILES.state,
  FILES.join,
  FILES.invites,
  FILES.inheritance,
  FILES.nonces,
  FILES.trust,
  FILES.permissions,
  FILES.participation,
  FILES.outsideWords,
  FILES.ledger,
  FILES.asks,
  FILES.mail,
  FILES.sharing,
  FILES.patterns,
  FILES.signals,
  FILES.schedules,
  FILES.activity,
];

/** Each conversation's own files (platform/workspace.ts `conversationFile`): a hex id, so no name climbs out of its folder. */
export const DURABLE_PATTERN: RegExp = CONVERSATION_FILE_PATTERN;

/** Whether `name` is one of the workspace's durable files: listed, or a conversation's own. */
export function isDurableFile(name: string): boolean {
  return DURABLE_FILES.includes(name) || DURABLE_PATTERN.test(name);
}

/** vault.json: the sequence of the newest state sealed (or restored) for this agent. */
export const VAULT_FILE = "vault.json";

/** What is sealed: the durable files' text by name (a file absent from the workspace is absent here). */
export interface AgentState {
  v: 1;
  instanceId: string;
  files: Record<string, string>;
  /**
   * The address of the host that sealed it, as the pool names it: a restore
   * elsewhere asks that host first, and moves nothing while it still answers
   * (host/restore.ts). Absent in states sealed before it was kept.
   */
  host?: string;
  /**
   * When it was sealed (ISO), by the sealing host's clock: a restore with no
   * high-water mark takes it only when the pool's record dates it too
   * (host/restore-record.ts). Absent in states sealed before it was kept.
   */
  sealedAt?: string;
}

/** Thrown when a state cannot be sealed or opened; the message says why, never what is inside. */
export class VaultError extends Error {}

function aad(instanceId: string, sequence: bigint): Buffer {
  return Buffer.from(`convos-pool/agent-state:${instanceId}:${sequence}`);
}

export function sealState(key: Uint8Array, sequence: bigint, state: AgentState): Uint8Array {
  const plain = gzipSync(Buffer.from(JSON.stringify(state), "utf8"));
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad(state.instanceId, sequence));
  const sealed = Buffer.concat([MAGIC, iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  if (sealed.length > MAX_SEALED_BYTES) {
    throw new VaultError(
      `agent ${state.instanceId}: its sealed state is ${sealed.length} bytes, above the ${MAX_SEALED_BYTES} a state may be`,
    );
  }
  return new Uint8Array(sealed);
}

/** Opens a state sealed for `instanceId` at `sequence`; refuses anything else, or anything altered. */
export function openState(key: Uint8Array, instanceId: string, sequence: bigint, sealed: Uint8Array): AgentState {
  const buf = Buffer.from(sealed);
  if (buf.length > MAX_SEALED_BYTES)
    throw new VaultError(`sealed state of ${buf.length} bytes, above ${MAX_SEALED_BYTES}`);
  if (buf.length < MAGIC.length + IV_BYTES + TAG_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new VaultError("not a sealed agent state");
  }
  const iv = buf.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const body = buf.subarray(MAGIC.length + IV_BYTES, buf.length - TAG_BYTES);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAAD(aad(instanceId, sequence));
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new VaultError(
      `the sealed state does not open as agent ${instanceId}'s at sequence ${sequence}: another agent's, another sequence's, or altered`,
    );
  }
  let state: AgentState;
  try {
    state = JSON.parse(gunzipSync(plain, { maxOutputLength: MAX_OPEN_BYTES }).toString("utf8")) as AgentState;
  } catch {
    throw new VaultError("the sealed state opened but does not unpack to a state");
  }
  if (
    state?.v !== 1 ||
    state.instanceId !== instanceId ||
    typeof state.files !== "object" ||
    state.files === null ||
    (state.host !== undefined && typeof state.host !== "string") ||
    (state.sealedAt !== undefined && typeof state.sealedAt !== "string")
  ) {
    throw new VaultError("the sealed state opened but is not a state of this version for this agent");
  }
  for (const [name, text] of Object.entries(state.files)) {
    if (!isDurableFile(name) || typeof text !== "string") {
      throw new VaultError(`the sealed state names a file that is not durable state: ${JSON.stringify(name)}`);
    }
  }
  return state;
}

/** The durable files of a workspace, as they are now, sealed by the host at `host`. */
export async function collectState(ws: Workspace, host?: string): Promise<AgentState> {
  const files: Record<string, string> = {};
  for (const name of DURABLE_FILES) {
    let text = await ws.readText(name);
    if (text === undefined) continue;
    if (name === FILES.activity) text = lastLines(text, ACTIVITY_LINES_KEPT);
    files[name] = text;
  }
  for (const id of await ws.list(CONVERSATIONS_DIR)) {
    if (!CONVERSATION_ID_PATTERN.test(id)) continue;
    for (const kind of CONVERSATION_FILES) {
      const name = conversationFile(id, kind);
      const text = await ws.readText(name);
      if (text !== undefined) files[name] = text;
    }
  }
  return { v: 1, instanceId: ws.instanceId, files, ...(host ? { host } : {}) };
}

/** Writes a state's files into a workspace (created if need be) and the sequence it came from. */
export async function writeState(ws: Workspace, state: AgentState, sequence: bigint): Promise<void> {
  if (state.instanceId !== ws.instanceId)
    throw new VaultError(`state of ${state.instanceId} written to ${ws.instanceId}`);
  await ws.create();
  for (const [name, text] of Object.entries(state.files)) await ws.writeText(name, text);
  await ws.writeJson(VAULT_FILE, { sequence: sequence.toString() } satisfies VaultFile);
}

/** vault.json. */
export interface VaultFile {
  /** Decimal: the newest sequence sealed or restored. */
  sequence: string;
}

function lastLines(text: string, n: number): string {
  const lines = text.split("\n").filter((l) => l.length > 0);
  return lines.length <= n ? text : `${lines.slice(-n).join("\n")}\n`;
}
