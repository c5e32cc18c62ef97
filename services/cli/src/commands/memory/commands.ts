// An owner's control over their agent's memory from the command line
// (docs/cli.md, "Agent memory"; docs/memory.md): export it to a file, import
// a file into another agent, list and forget what it learned, mark entries
// known in all its conversations, and its sharing with the pattern pool. Memory is sealed end to end: an export to a
// one-time key made here, an import to the agent's own key, which is checked
// against the agent's inbox before anything is sealed to it.
import type { MemoryExportJson, MemoryListJson } from "@convos-pool/gateway/rest-json";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { bytesToHex, sha256 } from "viem";
import { openSealed, shareMemoryFields, x25519KeyPair } from "@convos-pool/kit/signing";
import { CliError } from "../../core/errors.js";
import { request, type Context } from "../../core/http.js";
import { loadKey } from "../../core/key-store.js";
import { signRest } from "../../core/signing.js";
import { agentPath, b64, sealedFromJson, sealedToJson, sealToAgent } from "./sealing.js";

interface ListedEntry {
  id: string;
  kind: string;
  text: string;
  inheritedFrom?: string;
  feedback?: { signal: string };
  adoptedFrom?: string;
  imported?: boolean;
  /** Imported from the owner's own export: the inbox of the agent that sealed it (docs/memory.md, "The seal"). */
  sealedBy?: string;
  from?: string;
  role?: string;
  conversationId?: string;
  disputes?: string[];
  confirmedBy?: string;
}

/** Asks the agent for its memory sealed to a one-time key, opens it here, writes FILE (0600); prints counts and the secrets left out. */
export async function exportMemory(ctx: Context, id: string, file: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const mine = x25519KeyPair();
  const ownerSignature = await signRest(ctx, key, "ExportMemory", {
    instanceId: id,
    recipientKey: bytesToHex(mine.publicKey),
  });
  const reply = (
    await request(ctx, "POST", `${agentPath(id)}/memory/export`, {
      auth: "session",
      body: { recipient_key: b64(mine.publicKey), owner_signature: ownerSignature },
    })
  ).body as MemoryExportJson;
  const plaintext = await openSealed(mine.privateKey, sealedFromJson(reply.sealed));
  const memory = JSON.parse(new TextDecoder().decode(plaintext)) as { secrets?: { name: string; about: string }[] };
  const path = resolve(ctx.cwd, file);
  await writeFile(path, plaintext, { mode: 0o600 });
  // A file that was there keeps its mode on write: it holds memory now.
  await chmod(path, 0o600);
  return { file: path, counts: reply.counts, secrets_stripped: reply.secrets_stripped, secrets: memory.secrets ?? [] };
}

/**
 * Seals FILE (with `secrets` supplied again, by name) to the agent's memory
 * key, once that key checks out as signed by the wallet of the inbox the pool
 * lists for the agent; prints what was merged.
 */
export async function importMemory(
  ctx: Context,
  id: string,
  file: string,
  secrets: Record<string, string> = {},
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const path = resolve(ctx.cwd, file);
  let memory: Record<string, unknown>;
  try {
    memory = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`${file} is not an agent-memory file: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (Object.keys(secrets).length > 0)
    memory = { ...memory, suppliedSecrets: { ...(memory.suppliedSecrets as object | undefined), ...secrets } };
  const sealed = await sealToAgent(ctx, id, memory);
  const ownerSignature = await signRest(ctx, key, "ImportMemory", {
    instanceId: id,
    sealedDigest: sha256(sealed.ciphertext),
  });
  return (
    await request(ctx, "POST", `${agentPath(id)}/memory/import`, {
      auth: "session",
      body: { sealed: sealedToJson(sealed), owner_signature: ownerSignature },
    })
  ).body;
}

/**
 * What the agent knows (only what it learned from feedback with
 * `feedbackOnly`), one entry a line: id, kind, source, who taught it, text;
 * imported entries after the others, under a line of their own (`listing`).
 */
export async function listMemory(ctx: Context, id: string, feedbackOnly = false): Promise<string> {
  const key = await loadKey(ctx.keyFile);
  const mine = x25519KeyPair();
  const ownerSignature = await signRest(ctx, key, "ListMemory", {
    instanceId: id,
    recipientKey: bytesToHex(mine.publicKey),
    feedbackOnly,
  });
  const reply = (
    await request(ctx, "POST", `${agentPath(id)}/memory/list`, {
      auth: "session",
      body: { recipient_key: b64(mine.publicKey), feedback_only: feedbackOnly, owner_signature: ownerSignature },
    })
  ).body as MemoryListJson;
  const { entries } = JSON.parse(
    new TextDecoder().decode(await openSealed(mine.privateKey, sealedFromJson(reply.sealed))),
  ) as { entries: ListedEntry[] };
  return listing(entries);
}

/** What heads the imported entries in `memory-list`: whose word they are. */
export const IMPORTED_HEADING =
  "# Imported from memory files: nobody's word, unless from your own export (sealed:<agent> then says who taught each)";

/**
 * The listing: one entry a line, what it learned first, then what it
 * imported, in a group of its own under IMPORTED_HEADING (a line that starts
 * with `#`, after an empty line).
 */
export function listing(entries: readonly ListedEntry[]): string {
  if (entries.length === 0) return "(nothing)";
  const line = (e: ListedEntry) => [e.id, e.kind, sourceOf(e), taughtBy(e), e.text].join("\t");
  const learned = entries.filter((e) => !e.imported).map(line);
  const imported = entries.filter((e) => e.imported).map(line);
  if (imported.length === 0) return learned.join("\n");
  return [...learned, ...(learned.length > 0 ? [""] : []), IMPORTED_HEADING, ...imported].join("\n");
}

function sourceOf(e: ListedEntry): string {
  if (e.feedback) return `feedback:${e.feedback.signal}`;
  if (e.adoptedFrom) return `adopted:${e.adoptedFrom}`;
  if (e.inheritedFrom) return `inherited:${e.inheritedFrom}`;
  if (e.imported) return "imported";
  return "learned";
}

/**
 * Who taught an entry (docs/memory.md, "Provenance"): `owner`, `member:<first
 * 8 of inbox>` (with `,disputes` for a member's version of someone else's
 * fact, `owner,confirmed:<inbox>` once the owner confirmed one),
 * `outsider:<…>`, `inherited`, `adopted`, or `unknown`; `nobody` for an
 * entry imported from a file that was not the owner's own export, and
 * `,sealed:<agent>` after who taught one that was; then `@<first 8 of the
 * conversation id>` when known.
 */
export function taughtBy(e: ListedEntry): string {
  const short = (id: string) => id.slice(0, 8);
  if (e.imported && !e.sealedBy) return "nobody";
  let who: string;
  if (e.inheritedFrom) who = e.role ? `inherited(${e.role})` : "inherited";
  else if (e.adoptedFrom) who = "adopted";
  else if (e.role === "owner")
    who = e.confirmedBy && e.from && e.from !== e.confirmedBy ? `owner,confirmed:${short(e.from)}` : "owner";
  else if (e.role === "member" || e.role === "outsider" || (!e.role && e.from))
    who = `${e.role ?? "member"}:${short(e.from ?? "")}${e.disputes?.length ? ",disputes" : ""}`;
  else who = "unknown";
  if (e.sealedBy) who = `${who},sealed:${short(e.sealedBy)}`;
  return e.conversationId ? `${who}@${short(e.conversationId)}` : who;
}

/** Deletes entries by id (comma-separated); prints how many went and the ids the agent did not have. */
export async function forgetMemory(ctx: Context, id: string, entryIds: string[]): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signRest(ctx, key, "ForgetMemory", { instanceId: id, entryIds: entryIds.join(",") });
  return (
    await request(ctx, "POST", `${agentPath(id)}/memory/forget`, {
      auth: "session",
      body: { entry_ids: entryIds, owner_signature: ownerSignature },
    })
  ).body;
}

/**
 * Marks entries known in all my agent's conversations (`share`), or back in
 * the one each came from (signed ShareMemory over the ids in the order sent);
 * prints `{changed, not_found}`.
 */
export async function shareMemory(ctx: Context, id: string, entryIds: string[], share: boolean): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const { inboxId: _owner, ...fields } = shareMemoryFields({ ownerId: key.inbox_id, instanceId: id, entryIds, share });
  const ownerSignature = await signRest(ctx, key, "ShareMemory", fields);
  return (
    await request(ctx, "POST", `${agentPath(id)}/memory/share`, {
      auth: "session",
      body: { entry_ids: entryIds, share, owner_signature: ownerSignature },
    })
  ).body;
}

/** Opts the agent in or out of offering and adopting learned patterns. */
export async function setSharing(ctx: Context, id: string, offer: boolean, adopt: boolean): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signRest(ctx, key, "SetPatternSharing", { instanceId: id, offer, adopt });
  return (
    await request(ctx, "PUT", `${agentPath(id)}/pattern-sharing`, {
      auth: "session",
      body: { offer, adopt, owner_signature: ownerSignature },
    })
  ).body;
}
