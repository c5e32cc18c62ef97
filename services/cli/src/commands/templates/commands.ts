// The template commands: create, read, change (update, patch, visibility,
// archive, delete, rollback) and list templates, each signed with the key as
// their creator (docs/cli.md). A change based on a version reads it first:
// its ETag, and for a patch or rollback the content the change results in.
import type { TemplateJson, TemplateVersionsPageJson } from "@convos-pool/gateway/rest-json";
import { resolve } from "node:path";
import type { Hex } from "viem";
import { applyPatch, type TemplateContentJson } from "@convos-pool/kit/content";
import { contentHash, fillContent, fillPatch, patchHash, readJsonFile } from "../../core/content.js";
import { CliError } from "../../core/errors.js";
import { request, sessionIfKey, versionFromEtag, type Context, type Page, type Reply } from "../../core/http.js";
import { loadKey } from "../../core/key-store.js";
import { signRest } from "../../core/signing.js";

import type { Sort } from "./args.js";

export type { Sort };

const templatePath = (id: string) => `/api/pool/templates/${encodeURIComponent(id)}`;

function versionOf(reply: Reply): number | undefined {
  const fromEtag = versionFromEtag(reply.headers.get("etag"));
  if (fromEtag !== undefined) return fromEtag;
  const b = reply.body as (Partial<TemplateJson> & { template?: Partial<TemplateJson> }) | undefined;
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

/**
 * `--acknowledge-wallet-removal`: signed with the change and sent with it,
 * or neither (docs/templates.md, "A version without the wallet").
 */
const acknowledged = (ack: boolean | undefined) => ({
  signed: { acknowledgeWalletRemoval: ack === true },
  body: ack ? { acknowledge_wallet_removal: true } : {},
});

export const baseVersion = async (ctx: Context, id: string, version: number | undefined) =>
  version ?? (await current(ctx, id)).version;

/** The content of one version, from the template's history (newest first; creator only). */
async function contentAt(ctx: Context, id: string, version: number): Promise<TemplateContentJson> {
  let cursor: string | undefined;
  do {
    const page = (
      await request(ctx, "GET", `${templatePath(id)}/versions`, { auth: "session", query: { limit: 100, cursor } })
    ).body as TemplateVersionsPageJson;
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

/** The template's current version and its content, as its creator reads it (a rollout's baseline). */
export const currentContent = (ctx: Context, id: string) => base(ctx, id, undefined);

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
export async function withBaseCreator(ctx: Context, raw: unknown): Promise<unknown> {
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
  const signature = await signRest(ctx, key, "CreateTemplate", { contentHash: contentHash(content) });
  const reply = await request(ctx, "POST", "/api/pool/templates", {
    body: { creator_id: key.inbox_id, ...content, signature },
  });
  return reply.body;
}

/** Signed in when a key exists (a private template of one's own); anonymous otherwise. */
export async function getTemplate(ctx: Context, id: string, resolved = false): Promise<unknown> {
  const auth = await sessionIfKey(ctx);
  return (await request(ctx, "GET", `${templatePath(id)}${resolved ? "?resolve=true" : ""}`, { auth })).body;
}

/**
 * A change of a template from a file, as `update` and `patch` take it: the file, then `--version` (the one it is
 * based on), `--notes` and `--acknowledge-wallet-removal`.
 */
type Change = [ctx: Context, id: string, file: string, version?: number, notes?: string, acknowledge?: boolean];

export async function updateTemplate(...[ctx, id, file, version, notes, acknowledge]: Change): Promise<unknown> {
  const ack = acknowledged(acknowledge);
  const content = fillContent(await withBaseCreator(ctx, await readJsonFile(resolve(ctx.cwd, file), file)), file);
  const key = await loadKey(ctx.keyFile);
  const v = await baseVersion(ctx, id, version);
  const signature = await signRest(ctx, key, "UpdateTemplate", {
    templateId: id,
    version: BigInt(v),
    contentHash: contentHash(content),
    ...ack.signed,
  });
  return (
    await request(ctx, "PUT", templatePath(id), {
      body: { ...content, signature, ...releaseNotes(notes), ...ack.body },
      ifMatch: v,
    })
  ).body;
}

export async function patchTemplate(...[ctx, id, file, version, notes, acknowledge]: Change): Promise<unknown> {
  const ack = acknowledged(acknowledge);
  const patch = fillPatch(await readJsonFile(resolve(ctx.cwd, file), file), file);
  const key = await loadKey(ctx.keyFile);
  const from = await base(ctx, id, version);
  const signature = await signRest(ctx, key, "PatchTemplate", {
    templateId: id,
    version: BigInt(from.version),
    patchHash: patchHash(patch),
    contentHash: contentHash(applyPatch(from.content, patch)),
    ...ack.signed,
  });
  return (
    await request(ctx, "PATCH", templatePath(id), {
      body: { ...patch, signature, ...releaseNotes(notes), ...ack.body },
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
  const signature = await signRest(ctx, key, "SetTemplateVisibility", {
    templateId: id,
    version: BigInt(v),
    visibility,
  });
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
  const signature = await signRest(ctx, key, "ArchiveTemplate", { templateId: id, version: BigInt(v) });
  return (await request(ctx, "DELETE", templatePath(id), { body: { signature }, ifMatch: v })).body;
}

/** Permanent: the template and its history are gone. The server answers 204; this prints what was deleted. */
export async function deleteTemplate(ctx: Context, id: string, version?: number): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const v = await baseVersion(ctx, id, version);
  const signature = await signRest(ctx, key, "DeleteTemplate", { templateId: id, version: BigInt(v) });
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
export async function listInstances(
  ctx: Context,
  id: string,
  page: Page & { live?: boolean | undefined } = {},
): Promise<unknown> {
  const query = { live: page.live ? true : undefined, limit: page.limit, cursor: page.cursor };
  return (await request(ctx, "GET", `${templatePath(id)}/instances`, { auth: "session", query })).body;
}

export async function rollbackTemplate(
  ctx: Context,
  id: string,
  target: number,
  version?: number,
  notes?: string,
  acknowledge?: boolean,
): Promise<unknown> {
  const ack = acknowledged(acknowledge);
  const key = await loadKey(ctx.keyFile);
  const v = await baseVersion(ctx, id, version);
  const restored = await contentAt(ctx, id, target);
  const signature = await signRest(ctx, key, "RollbackTemplate", {
    templateId: id,
    version: BigInt(v),
    targetVersion: BigInt(target),
    contentHash: contentHash(restored),
    ...ack.signed,
  });
  return (
    await request(ctx, "POST", `${templatePath(id)}/rollback`, {
      body: { target_version: target, signature, ...releaseNotes(notes), ...ack.body },
      ifMatch: v,
    })
  ).body;
}

export interface BrowseOptions extends Page {
  q?: string | undefined;
  category?: string | undefined;
  sort?: Sort | undefined;
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

/** The models a template may name (docs/templates.md, "Models"); anonymous. */
export async function models(ctx: Context): Promise<unknown> {
  return (await request(ctx, "GET", "/api/pool/models")).body;
}

/** My templates, private ones included (signed in); archived ones with `archived`. */
export async function mine(ctx: Context, opts: Page & { archived?: boolean | undefined } = {}): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const query = {
    creator: key.inbox_id,
    include_archived: opts.archived ? true : undefined,
    limit: opts.limit,
    cursor: opts.cursor,
  };
  return (await request(ctx, "GET", "/api/pool/templates", { auth: "session", query })).body;
}

// ---------------------------------------------------------------- content files, for requests by hand

/** The contentHash of a content file, defaults filled (for CreateTemplate / UpdateTemplate). */
export async function contentHashOf(ctx: Context, file: string): Promise<Hex> {
  return contentHash(fillContent(await readJsonFile(resolve(ctx.cwd, file), file), file));
}

/** The patchHash of a patch file (for PatchTemplate). */
export async function patchHashOf(ctx: Context, file: string): Promise<Hex> {
  return patchHash(fillPatch(await readJsonFile(resolve(ctx.cwd, file), file), file));
}
