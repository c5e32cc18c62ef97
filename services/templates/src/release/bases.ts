/**
 * Base templates (docs/templates.md, "Base templates"): the base a
 * template's content names, checked when a change sets one; the layers a
 * template resolves to, for the claims service (each layer's signed release)
 * and for the resolved view; and the templates that build on one, which its
 * content changes reach and which keep it from being deleted.
 *
 * Checks that read other templates (a cycle, the number of levels) run under
 * one transaction-scoped advisory lock, so two changes cannot each pass them
 * against the state before the other (A on B and B on A at once).
 */
import { create } from "@bufbuild/protobuf";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  ResolvedTemplateSchema,
  TemplateLayerSchema,
  type ResolvedTemplate,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  MAX_TEMPLATE_LAYERS,
  contentFromJson,
  failedPrecondition,
  invalidArgument,
  notFound,
  renderIdentity,
  resolveContent,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { servedVersion } from "../catalog/rollout.js";
import { isDelisted } from "../catalog/standing.js";
import { TemplateRow, TemplateVersionRow, type TemplateVersionRowType } from "../db/entities.js";
import { creationNonceOf, signedTemplateOf } from "./signed.js";

/** One template of a resolution, at the content version it resolves to. */
export interface Layer {
  templateId: string;
  creatorId: string;
  version: number;
  /** The layer above stays on this version rather than following. */
  pinned: boolean;
  content: TemplateContentJson;
}

/** A base's layer, with the version row it was read from (its signed change). */
interface BaseLayer extends Layer {
  at: TemplateVersionRowType;
}

/**
 * The layers below `content`, its base first, each at the version it
 * resolves to now: the one the layer above stays on, or the base's newest
 * content version (its current one while a rollout of it runs). Stops at a template seen before and past the deepest level
 * (checkBase refuses both; this only keeps a walk finite).
 */
export async function layersBelow(
  em: EntityManager,
  ownId: string,
  content: TemplateContentJson,
): Promise<BaseLayer[]> {
  const layers: BaseLayer[] = [];
  const seen = new Set([ownId]);
  let ref = content.base;
  while (ref && !seen.has(ref.template_id) && layers.length < MAX_TEMPLATE_LAYERS) {
    seen.add(ref.template_id);
    const row = await em.findOne(TemplateRow, { id: ref.template_id });
    // A base that follows its newest follows its current one while a rollout of it runs (docs/rollouts.md).
    const version = ref.version ?? (row ? await servedVersion(em, row) : undefined);
    const at = row && version !== undefined && (await em.findOne(TemplateVersionRow, { template: row.id, version }));
    if (!row || !at)
      throw failedPrecondition(
        `template ${ref.template_id}, a base of template ${ownId}, has no version ${version ?? ""}`.trim(),
      );
    layers.push({
      templateId: row.id,
      creatorId: row.creatorId,
      version: at.contentVersion,
      pinned: ref.version !== undefined,
      content: at.snapshot.content,
      at,
    });
    ref = at.snapshot.content.base;
  }
  return layers;
}

/**
 * The templates that build on `templateId`, directly (level 1) or through
 * another, with their content versions. A template has one base, so each
 * appears once.
 */
export async function templatesAbove(
  em: EntityManager,
  templateId: string,
): Promise<{ id: string; contentVersion: number; level: number }[]> {
  const rows = await em.execute<{ id: string; content_version: number; level: number }[]>(
    `with recursive above (id, content_version, level) as (
       select id, content_version, 1 from templates where base_template_id = ?
       union all
       select t.id, t.content_version, above.level + 1 from templates t join above on t.base_template_id = above.id where above.level < ?
     ) select id, content_version, level from above`,
    [templateId, MAX_TEMPLATE_LAYERS],
  );
  return rows.map((r) => ({ id: r.id, contentVersion: Number(r.content_version), level: Number(r.level) }));
}

/**
 * Inside the change's transaction, for content that names a base: the base
 * is the creator's own or public and active, by the creator named, at a
 * content version it has; no cycle; at most MAX_TEMPLATE_LAYERS levels,
 * counting the templates that already build on this one.
 */
export async function checkBase(
  tx: EntityManager,
  self: { id: string; creatorId: string },
  content: TemplateContentJson,
): Promise<void> {
  const ref = content.base;
  if (!ref) return;
  await tx.execute(`select pg_advisory_xact_lock(hashtext('convos-pool/template-bases'))`);
  const base = await tx.findOne(TemplateRow, { id: ref.template_id });
  // Another creator's private, archived or delisted template is not there for this one, as everywhere.
  const others = base && base.creatorId !== self.creatorId;
  if (
    !base ||
    (others && (base.visibility !== "public" || base.status !== "active" || (await isDelisted(tx, base.id))))
  ) {
    throw notFound(`content.base.template_id: template ${ref.template_id}`);
  }
  if (base.creatorId !== ref.creator_id) {
    throw invalidArgument(
      "content.base.creator_id",
      `template ${base.id} is by ${base.creatorId}, not ${ref.creator_id}`,
    );
  }
  if (ref.version !== undefined) {
    const v = await tx.findOne(TemplateVersionRow, { template: base.id, version: ref.version });
    if (!v || v.contentVersion !== ref.version || !v.changeKind) {
      throw invalidArgument(
        "content.base.version",
        `template ${base.id} has no signed content version ${ref.version} (its newest is ${base.contentVersion})`,
      );
    }
  }
  if (ref.template_id === self.id)
    throw failedPrecondition(`content.base.template_id: a template cannot be its own base (a cycle)`);
  const below = await layersBelow(tx, self.id, content);
  const last = below[below.length - 1];
  if (last?.content.base?.template_id === self.id) {
    throw failedPrecondition(
      `content.base.template_id: template ${last.templateId} builds on template ${self.id}, so it cannot be its base (a cycle)`,
    );
  }
  const levelsAbove = Math.max(0, ...(await templatesAbove(tx, self.id)).map((t) => t.level));
  const levels = levelsAbove + 1 + below.length + (last?.content.base ? 1 : 0);
  if (levels > MAX_TEMPLATE_LAYERS) {
    throw failedPrecondition(
      `content.base: this would make ${levels} levels of templates; at most ${MAX_TEMPLATE_LAYERS} (a template, its base and the base's base). Flatten one level into its template`,
    );
  }
}

/** The templates built on `templateId` (at most five named), for a delete that would strand them. */
export async function dependents(em: EntityManager, templateId: string): Promise<string[]> {
  const rows = await em.execute<{ id: string }[]>(
    `select id from templates where base_template_id = ? order by id limit 5`,
    [templateId],
  );
  return rows.map((r) => r.id);
}

/** A content version as its creator signed it, with its bases' releases as it resolves them now, its base first. */
export async function releaseWithBases(
  em: EntityManager,
  templateId: string,
  version: number,
): Promise<{ template: SignedTemplate; bases: SignedTemplate[] } | undefined> {
  const at = await em.findOne(TemplateVersionRow, { template: templateId, version }, { populate: ["template"] });
  if (!at) return undefined;
  const bases: SignedTemplate[] = [];
  for (const l of await layersBelow(em, templateId, at.snapshot.content))
    bases.push(signedTemplateOf(l.at, l.creatorId, await creationNonceOf(em, l.templateId)));
  return { template: signedTemplateOf(at, at.template.creatorId, await creationNonceOf(em, templateId)), bases };
}

/** The resolved view: what the template's agents run on, the layers it came from, and their IDENTITY.md. */
export async function resolvedView(em: EntityManager, own: Omit<Layer, "pinned">): Promise<ResolvedTemplate> {
  const layers: Layer[] = [{ ...own, pinned: false }, ...(await layersBelow(em, own.templateId, own.content))];
  const content = resolveContent(layers.map((l) => contentFromJson(l.content)));
  return create(ResolvedTemplateSchema, {
    content,
    layers: layers.map((l) =>
      create(TemplateLayerSchema, {
        templateId: l.templateId,
        creatorId: l.creatorId,
        version: BigInt(l.version),
        agentName: l.content.agent_name,
        pinned: l.pinned,
      }),
    ),
    identityMd: renderIdentity(content),
  });
}
