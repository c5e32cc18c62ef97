// One function per command: each takes the context and its parsed arguments
// and returns what the command prints (main pretty-prints it). They throw
// UsageError, CliError or HttpError; main turns those into exit codes.
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Hex } from "viem";
import {
  applyPatch,
  claimFields,
  cloneFields,
  parseTrustLevel,
  type TemplateContentJson,
  type TrustLevelName,
} from "@convos-pool/kit";
import { formatActivity, type ActivityPage } from "./activity.js";
import { contentHash, fillContent, fillPatch, patchHash, readJsonFile } from "./content.js";
import { CliError } from "./errors.js";
import { HttpError } from "./errors.js";
import {
  NetworkError,
  login,
  nowSeconds,
  request,
  versionFromEtag,
  type Context,
  type LoginResult,
  type Reply,
} from "./http.js";
import { clearSession, convosWalletKey, createKey, loadKey, readSession, type Identity } from "./key-store.js";
import {
  parseClaimSignFields,
  parseOperation,
  parseSignFields,
  signCamel,
  signRest,
  type CamelSignatureJson,
  type SignatureJson,
} from "./signing.js";

export type Sort = "relevance" | "newest" | "most_used";
export const SORTS: readonly Sort[] = ["relevance", "newest", "most_used"];

export interface Page {
  limit?: number;
  cursor?: string;
}

const templatePath = (id: string) => `/api/pool/templates/${encodeURIComponent(id)}`;

export async function keyExists(ctx: Context): Promise<boolean> {
  try {
    await stat(ctx.keyFile);
    return true;
  } catch {
    return false;
  }
}

function versionOf(reply: Reply): number | undefined {
  const fromEtag = versionFromEtag(reply.headers.get("etag"));
  if (fromEtag !== undefined) return fromEtag;
  const b = reply.body as { version?: unknown; template?: { version?: unknown } } | undefined;
  const v = b?.version ?? b?.template?.version;
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isSafeInteger(n) ? n : undefined;
}

/** The template as its creator sees it (signed in), and its version. */
async function current(ctx: Context, id: string): Promise<{ version: number; template: unknown }> {
  const reply = await request(ctx, "GET", templatePath(id), { auth: "session" });
  const v = versionOf(reply);
  if (v === undefined) throw new CliError(`template ${id}: the server's answer names no version (ETag or "version")`);
  return { version: v, template: reply.body };
}

/** `--notes`: the creator's release notes, unsigned display text (docs/store.md). */
const releaseNotes = (notes: string | undefined) => (notes === undefined ? {} : { release_notes: notes });

export const baseVersion = async (ctx: Context, id: string, version: number | undefined) =>
  version ?? (await current(ctx, id)).version;

interface VersionPage {
  versions?: Array<{ version?: unknown; snapshot?: unknown }>;
  next_cursor?: string | null;
}

/** The content of one version, from the template's history (newest first; creator only). */
async function contentAt(ctx: Context, id: string, version: number): Promise<TemplateContentJson> {
  let cursor: string | undefined;
  do {
    const page = (
      await request(ctx, "GET", `${templatePath(id)}/versions`, { auth: "session", query: { limit: 100, cursor } })
    ).body as VersionPage;
    const versions = page.versions ?? [];
    const found = versions.find((v) => v.version === version);
    if (found) return fillContent(found.snapshot, `version ${version} of template ${id}`);
    const oldest = versions[versions.length - 1]?.version;
    if (typeof oldest !== "number" || oldest < version) break;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  throw new CliError(`template ${id} has no version ${version}`);
}

/**
 * What a change is based on: version N and its content from the history, or
 * the current version. A patch or rollback is signed over the content it
 * results in, so the CLI needs that content as well as the version.
 */
async function base(
  ctx: Context,
  id: string,
  version: number | undefined,
): Promise<{ version: number; content: TemplateContentJson }> {
  if (version !== undefined) return { version, content: await contentAt(ctx, id, version) };
  const now = await current(ctx, id);
  return { version: now.version, content: fillContent(now.template, `template ${id}`) };
}

// ---------------------------------------------------------------- key and session

export async function keygen(ctx: Context, opts: { force?: boolean; fromConvos?: string } = {}): Promise<Identity> {
  return createKey(ctx.keyFile, {
    force: opts.force,
    ...(opts.fromConvos ? { privateKey: await convosWalletKey(resolve(ctx.cwd, opts.fromConvos)) } : {}),
  });
}

export async function whoami(ctx: Context): Promise<Identity> {
  const { address, inbox_id } = await loadKey(ctx.keyFile);
  return { address, inbox_id };
}

export async function loginCommand(ctx: Context): Promise<LoginResult> {
  return (await login(ctx)).result;
}

// ---------------------------------------------------------------- templates

export async function createTemplate(ctx: Context, file: string): Promise<unknown> {
  return postTemplate(
    ctx,
    fillContent(await withBaseCreator(ctx, await readJsonFile(resolve(ctx.cwd, file), file)), file),
  );
}

/**
 * A content file may name its base by template id alone: the base's creator,
 * which the creator signs with it (docs/templates.md, "Base templates"), is
 * filled in from the base as the gateway shows it.
 */
async function withBaseCreator(ctx: Context, raw: unknown): Promise<unknown> {
  const base = (raw as { base?: unknown } | null)?.base;
  if (typeof base !== "object" || base === null || Array.isArray(base)) return raw;
  const ref = base as { template_id?: unknown; creator_id?: unknown };
  if (ref.creator_id !== undefined || typeof ref.template_id !== "string") return raw;
  const found = (await getTemplate(ctx, ref.template_id)) as { creator_id: string };
  return { ...(raw as object), base: { ...ref, creator_id: found.creator_id } };
}

/** Creates a private template of this content, signed with the key (CreateTemplate). */
export async function postTemplate(ctx: Context, content: TemplateContentJson): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const signature = await signRest(key, "CreateTemplate", { contentHash: contentHash(content) });
  const reply = await request(ctx, "POST", "/api/pool/templates", {
    body: { creator_id: key.inbox_id, ...content, signature },
  });
  return reply.body;
}

/** Signed in when a key exists (a private template of one's own); anonymous otherwise. */
export async function getTemplate(ctx: Context, id: string, resolved = false): Promise<unknown> {
  const auth = (await keyExists(ctx)) ? "session" : "none";
  return (await request(ctx, "GET", `${templatePath(id)}${resolved ? "?resolve=true" : ""}`, { auth })).body;
}

export async function updateTemplate(
  ctx: Context,
  id: string,
  file: string,
  version?: number,
  notes?: string,
): Promise<unknown> {
  const content = fillContent(await withBaseCreator(ctx, await readJsonFile(resolve(ctx.cwd, file), file)), file);
  const key = await loadKey(ctx.keyFile);
  const v = await baseVersion(ctx, id, version);
  const signature = await signRest(key, "UpdateTemplate", {
    templateId: id,
    version: BigInt(v),
    contentHash: contentHash(content),
  });
  return (
    await request(ctx, "PUT", templatePath(id), { body: { ...content, signature, ...releaseNotes(notes) }, ifMatch: v })
  ).body;
}

export async function patchTemplate(
  ctx: Context,
  id: string,
  file: string,
  version?: number,
  notes?: string,
): Promise<unknown> {
  const patch = fillPatch(await readJsonFile(resolve(ctx.cwd, file), file), file);
  const key = await loadKey(ctx.keyFile);
  const from = await base(ctx, id, version);
  const signature = await signRest(key, "PatchTemplate", {
    templateId: id,
    version: BigInt(from.version),
    patchHash: patchHash(patch),
    contentHash: contentHash(applyPatch(from.content, patch)),
  });
  return (
    await request(ctx, "PATCH", templatePath(id), {
      body: { ...patch, signature, ...releaseNotes(notes) },
      ifMatch: from.version,
    })
  ).body;
}

async function setVisibility(
  ctx: Context,
  id: string,
  visibility: "public" | "private",
  version?: number,
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const v = await baseVersion(ctx, id, version);
  const signature = await signRest(key, "SetTemplateVisibility", { templateId: id, version: BigInt(v), visibility });
  return (
    await request(ctx, "PATCH", `${templatePath(id)}/visibility`, { body: { visibility, signature }, ifMatch: v })
  ).body;
}

export const publishTemplate = (ctx: Context, id: string, version?: number) =>
  setVisibility(ctx, id, "public", version);
export const unpublishTemplate = (ctx: Context, id: string, version?: number) =>
  setVisibility(ctx, id, "private", version);

/** Soft delete: hidden from the store and new claims, history kept. */
export async function archiveTemplate(ctx: Context, id: string, version?: number): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const v = await baseVersion(ctx, id, version);
  const signature = await signRest(key, "ArchiveTemplate", { templateId: id, version: BigInt(v) });
  return (await request(ctx, "DELETE", templatePath(id), { body: { signature }, ifMatch: v })).body;
}

/** Permanent: the template and its history are gone. The server answers 204; this prints what was deleted. */
export async function deleteTemplate(ctx: Context, id: string, version?: number): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const v = await baseVersion(ctx, id, version);
  const signature = await signRest(key, "DeleteTemplate", { templateId: id, version: BigInt(v) });
  const reply = await request(ctx, "DELETE", templatePath(id), {
    body: { signature },
    ifMatch: v,
    query: { permanent: true },
  });
  return reply.body ?? { id, deleted: true };
}

export async function listVersions(ctx: Context, id: string, page: Page = {}): Promise<unknown> {
  return (await request(ctx, "GET", `${templatePath(id)}/versions`, { auth: "session", query: { ...page } })).body;
}

/** The creator's dashboard: every instance of the template, with where each stands on instruction sync. */
export async function listInstances(ctx: Context, id: string, page: Page & { live?: boolean } = {}): Promise<unknown> {
  const query = { live: page.live ? true : undefined, limit: page.limit, cursor: page.cursor };
  return (await request(ctx, "GET", `${templatePath(id)}/instances`, { auth: "session", query })).body;
}

export async function rollbackTemplate(
  ctx: Context,
  id: string,
  target: number,
  version?: number,
  notes?: string,
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const v = await baseVersion(ctx, id, version);
  const restored = await contentAt(ctx, id, target);
  const signature = await signRest(key, "RollbackTemplate", {
    templateId: id,
    version: BigInt(v),
    targetVersion: BigInt(target),
    contentHash: contentHash(restored),
  });
  return (
    await request(ctx, "POST", `${templatePath(id)}/rollback`, {
      body: { target_version: target, signature, ...releaseNotes(notes) },
      ifMatch: v,
    })
  ).body;
}

export interface BrowseOptions extends Page {
  q?: string;
  category?: string;
  sort?: Sort;
}

/** The public store: anonymous. */
export async function browse(ctx: Context, opts: BrowseOptions = {}): Promise<unknown> {
  const query = {
    visibility: "public",
    q: opts.q,
    category: opts.category,
    sort: opts.sort,
    limit: opts.limit,
    cursor: opts.cursor,
  };
  return (await request(ctx, "GET", "/api/pool/templates", { query })).body;
}

/** My templates, private ones included (signed in); archived ones with `archived`. */
export async function mine(ctx: Context, opts: Page & { archived?: boolean } = {}): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const query = {
    creator: key.inbox_id,
    include_archived: opts.archived ? true : undefined,
    limit: opts.limit,
    cursor: opts.cursor,
  };
  return (await request(ctx, "GET", "/api/pool/templates", { auth: "session", query })).body;
}

// ---------------------------------------------------------------- agents

const agentPath = (id: string) => `/api/pool/agents/${encodeURIComponent(id)}`;

/**
 * Adds an agent of a template to a Convos conversation, by its invite, for
 * the key's inbox (its owner from then on). The claim is signed (ClaimAgent),
 * so no session is needed; the answer comes once the agent has joined.
 */
export async function claim(
  ctx: Context,
  templateId: string,
  invite: string,
  opts: { model?: string; config?: Record<string, string> } = {},
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const body = {
    requester: key.inbox_id,
    templateId,
    conversationInvite: invite,
    model: opts.model ?? "",
    userConfig: opts.config ?? {},
  };
  const { inboxId: _requester, ...fields } = claimFields(body);
  const signature = await signCamel(key, "ClaimAgent", fields, nowSeconds(ctx));
  // An answer lost on the way (a broken connection) is asked for again with the same key: the same agent, never a second.
  const idempotencyKey = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return (await request(ctx, "POST", "/api/pool/claim", { body: { ...body, signature }, idempotencyKey })).body;
    } catch (err) {
      if (!(err instanceof NetworkError) || attempt === CLAIM_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, 1_000 * attempt));
    }
  }
}

/** Tries of one claim when the connection fails. */
const CLAIM_ATTEMPTS = 3;

/** My agents across templates (signed in). */
export async function agents(ctx: Context, page: Page = {}): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  return (await request(ctx, "GET", "/api/pool/agents", { auth: "session", query: { owner: key.inbox_id, ...page } }))
    .body;
}

/** One of my agents, with its instruction-sync state (signed in). */
export async function agent(ctx: Context, id: string): Promise<unknown> {
  return (await request(ctx, "GET", agentPath(id), { auth: "session" })).body;
}

/** Pins or unpins my agent, signed by the key as its owner (SetInstancePin). */
export async function pinAgent(ctx: Context, id: string, pinned: boolean): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signCamel(key, "SetInstancePin", { instanceId: id, pinned }, nowSeconds(ctx));
  return (await request(ctx, "PUT", `${agentPath(id)}/pin`, { body: { pinned, ownerSignature } })).body;
}

/** Removes my agent for good, signed by the key as its owner (RemoveAgent). The server answers 204. */
export async function removeAgent(ctx: Context, id: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signCamel(key, "RemoveAgent", { instanceId: id }, nowSeconds(ctx));
  await request(ctx, "DELETE", agentPath(id), { body: { ownerSignature } });
  return { id, removed: true };
}

/**
 * Clones my agent into another conversation, with what it learned: the
 * kinds of memory that carry, under a directive (none: the template's
 * default). Signed as the owner (CloneAgent), so no session is needed; the
 * answer comes once the clone has joined and its parent has sent (or
 * refused) its summary: `inheritance` says which.
 */
export async function clone(
  ctx: Context,
  parentId: string,
  invite: string,
  opts: { directive?: string; carry?: string[]; model?: string; config?: Record<string, string> } = {},
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const fields = {
    ownerId: key.inbox_id,
    parentInstanceId: parentId,
    conversationInvite: invite,
    contextPrompt: opts.directive ?? "",
    carry: opts.carry ?? [],
    model: opts.model ?? "",
    userConfig: opts.config ?? {},
  };
  const { inboxId: _owner, ...signed } = cloneFields(fields);
  const ownerSignature = await signCamel(key, "CloneAgent", signed, nowSeconds(ctx));
  const body = {
    requester: key.inbox_id,
    cloneFrom: parentId,
    conversationInvite: invite,
    contextPrompt: fields.contextPrompt,
    carry: fields.carry,
    model: fields.model,
    userConfig: fields.userConfig,
    ownerSignature,
  };
  return (await request(ctx, "POST", "/api/pool/claim", { body })).body;
}

/** Offers my agent to another inbox (TransferAgent, signed as the owner); nothing changes until they accept. */
export async function transferAgent(ctx: Context, id: string, newOwnerId: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signCamel(key, "TransferAgent", { instanceId: id, newOwnerId }, nowSeconds(ctx));
  return (await request(ctx, "POST", `${agentPath(id)}/transfer`, { body: { newOwnerId, ownerSignature } })).body;
}

/**
 * Accepts an agent offered to the key's inbox: reads it (the inbox it is
 * offered to may) to learn whose it is, signs AcceptAgent naming that owner.
 */
export async function acceptAgent(ctx: Context, id: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const offered = (await request(ctx, "GET", agentPath(id), { auth: "session" })).body as {
    ownerId?: string;
    pendingOwnerId?: string;
  };
  if (offered.pendingOwnerId !== key.inbox_id)
    throw new CliError(`agent ${id} is not offered to you (${key.inbox_id})`);
  const signature = await signCamel(
    key,
    "AcceptAgent",
    { instanceId: id, fromOwnerId: offered.ownerId ?? "" },
    nowSeconds(ctx),
  );
  return (await request(ctx, "POST", `${agentPath(id)}/accept`, { body: { signature } })).body;
}

/**
 * Sets my agent's trust level, signed by the key as its owner (SetTrustLevel;
 * the agent checks it itself). L4 takes the daily spending limit in wei.
 */
export async function setTrust(
  ctx: Context,
  id: string,
  level: TrustLevelName,
  dailyLimitWei?: bigint,
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const trustLevel = parseTrustLevel(level)!;
  const ownerSignature = await signCamel(
    key,
    "SetTrustLevel",
    { instanceId: id, trustLevel, dailySpendLimitWei: dailyLimitWei ?? 0n },
    nowSeconds(ctx),
  );
  const body = {
    trustLevel: level,
    ...(dailyLimitWei !== undefined ? { dailySpendLimitWei: dailyLimitWei.toString() } : {}),
    ownerSignature,
  };
  return (await request(ctx, "PUT", `${agentPath(id)}/trust`, { body })).body;
}

/** My agent's activity log, newest first, as a table (signed in). */
export async function activity(ctx: Context, id: string, page: Page = {}): Promise<string> {
  const reply = await request(ctx, "GET", `${agentPath(id)}/activity`, { auth: "session", query: { ...page } });
  return formatActivity(reply.body as ActivityPage);
}

/** An agent's lineage (signed in as its owner or its template's creator). */
export async function lineage(ctx: Context, id: string): Promise<unknown> {
  return (await request(ctx, "GET", `${agentPath(id)}/lineage`, { auth: "session" })).body;
}

/** A template's dashboard for its creator (signed in). */
export async function dashboard(ctx: Context, templateId: string): Promise<unknown> {
  return (await request(ctx, "GET", `${templatePath(templateId)}/dashboard`, { auth: "session" })).body;
}

/** My agents with their lineage (signed in). */
export async function family(ctx: Context, opts: Page & { ended?: boolean } = {}): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const query = { owner: key.inbox_id, ended: opts.ended ? "true" : undefined, limit: opts.limit, cursor: opts.cursor };
  return (await request(ctx, "GET", "/api/pool/lineage", { auth: "session", query })).body;
}

/**
 * Signs out: the stored session is ended on the server (DELETE
 * /api/pool/sessions), then deleted here. A session the server no longer
 * knows (401: ended or expired) is deleted all the same.
 */
export async function logout(ctx: Context): Promise<unknown> {
  const stored = await readSession(ctx.keyFile);
  if (!stored) return { signed_out: false, message: "no stored session: nothing to sign out of" };
  try {
    if (stored.url === ctx.url) await request(ctx, "DELETE", "/api/pool/sessions", { token: stored.token });
  } catch (err) {
    if (!(err instanceof HttpError && err.status === 401)) throw err;
  }
  await clearSession(ctx.keyFile);
  return { signed_out: true, inbox_id: stored.inbox_id };
}

// ---------------------------------------------------------------- by hand (curl)

/** Operations whose REST bodies take the signature in camelCase (the claims paths). */
const CAMEL_SIGNED = new Set([
  "ClaimAgent",
  "SetInstancePin",
  "RemoveAgent",
  "CloneAgent",
  "TransferAgent",
  "AcceptAgent",
  "SetTrustLevel",
]);

/**
 * The `signature` object of a hand-made request, in the form its path takes:
 * `{signature, issued_at, nonce}` on the template and session paths,
 * `{signature, issuedAt, nonce}` on the claims paths.
 */
export async function sign(
  ctx: Context,
  operation: string,
  fieldsJson: string,
): Promise<SignatureJson | CamelSignatureJson> {
  const op = parseOperation(operation);
  const key = await loadKey(ctx.keyFile);
  // A claim is signed over hashes of its invite and user config: the claim as it will be sent is easier to give.
  const fields = op === "ClaimAgent" ? parseClaimSignFields(key.inbox_id, fieldsJson) : parseSignFields(op, fieldsJson);
  return CAMEL_SIGNED.has(op) ? signCamel(key, op, fields) : signRest(key, op, fields);
}

/** The contentHash of a content file, defaults filled (for CreateTemplate / UpdateTemplate). */
export async function contentHashOf(ctx: Context, file: string): Promise<Hex> {
  return contentHash(fillContent(await readJsonFile(resolve(ctx.cwd, file), file), file));
}

/** The patchHash of a patch file (for PatchTemplate). */
export async function patchHashOf(ctx: Context, file: string): Promise<Hex> {
  return patchHash(fillPatch(await readJsonFile(resolve(ctx.cwd, file), file), file));
}
