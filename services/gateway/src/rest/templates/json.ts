// Templates in their REST JSON form (docs/rest.md); REST bodies as the
// request messages of TemplateService are content-body.ts's.

import { create } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  ReviewState,
  TemplateContentSchema,
  TemplateStatus,
  Visibility,
  type Template,
  type TemplateRatings,
  type TemplateDelisting,
  type TemplateVersion,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { ResolvedTemplate } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { contentToJson, type TemplateContentJson } from "@convos-pool/kit/content";
import { etag, nextCursor, type RestResponse } from "../core/request.js";

export type TemplateJson = { id: string; creator_id: string } & TemplateContentJson & {
    visibility: "public" | "private";
    status: "active" | "archived";
    version: number;
    content_version: number;
    usage_count: number;
    recent_owners: number;
    featured: boolean;
    /** Its owners' ratings, present from 3 on (docs/store.md, "Ratings"). */
    ratings?: RatingsJson;
    /** Present while delisted (its creator's and the operators' reads). */
    delisting?: DelistingJson;
    created_at: string | null;
    updated_at: string | null;
  };

export interface RatingsJson {
  average: number;
  count: number;
  score: number;
}

export const ratingsToJson = (r: TemplateRatings): RatingsJson => ({
  average: r.average,
  count: Number(r.count),
  score: r.score,
});

export interface DelistingJson {
  reason: string;
  operator_id: string;
  delisted_at: string | null;
  review: {
    state: "none" | "requested" | "declined";
    message: string;
    version: number;
    requested_at: string | null;
    note: string;
  };
}

export interface TemplateVersionJson {
  template_id: string;
  version: number;
  snapshot: TemplateJson | null;
  changed_by: string;
  changed_at: string | null;
  change_summary: string;
  release_notes: string;
}

/** GET /api/pool/templates/{id}/versions: a page of the template's history, newest first. */
export interface TemplateVersionsPageJson {
  versions: TemplateVersionJson[];
  next_cursor: string | null;
}

const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : null);

export function templateToJson(t: Template): TemplateJson {
  return {
    id: t.id,
    creator_id: t.creatorId,
    ...contentToJson(t.content ?? create(TemplateContentSchema)),
    visibility: t.visibility === Visibility.PUBLIC ? "public" : "private",
    status: t.status === TemplateStatus.ARCHIVED ? "archived" : "active",
    version: Number(t.version),
    content_version: Number(t.contentVersion),
    usage_count: Number(t.usageCount),
    recent_owners: Number(t.recentOwners),
    featured: t.featured,
    ...(t.ratings ? { ratings: ratingsToJson(t.ratings) } : {}),
    ...(t.delisting ? { delisting: delistingToJson(t.delisting) } : {}),
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
  };
}

const REVIEW_STATES = {
  [ReviewState.UNSPECIFIED]: "none",
  [ReviewState.REQUESTED]: "requested",
  [ReviewState.DECLINED]: "declined",
} as const;

export function delistingToJson(d: TemplateDelisting): DelistingJson {
  return {
    reason: d.reason,
    operator_id: d.operatorId,
    delisted_at: iso(d.delistedAt),
    review: {
      state: REVIEW_STATES[d.reviewState] ?? "none",
      message: d.reviewMessage,
      version: Number(d.reviewVersion),
      requested_at: iso(d.reviewRequestedAt),
      note: d.reviewNote,
    },
  };
}

export function versionToJson(v: TemplateVersion): TemplateVersionJson {
  return {
    template_id: v.templateId,
    version: Number(v.version),
    snapshot: v.snapshot ? templateToJson(v.snapshot) : null,
    changed_by: v.changedBy,
    changed_at: iso(v.changedAt),
    change_summary: v.changeSummary,
    release_notes: v.releaseNotes,
  };
}

// ---------------------------------------------------------------- request bodies

/** The content fields of a body: the kit's list, shared with the CLI's and the web app's content files. */
export { CONTENT_FIELDS } from "@convos-pool/kit/content";
export { contentFromBody, patchFromBody } from "./content-body.js";

/** The resolved view (`?resolve=true`): what the template's agents run on, and the layers it came from. */
export function resolvedToJson(r: ResolvedTemplate): Record<string, unknown> {
  return {
    ...contentToJson(r.content ?? create(TemplateContentSchema)),
    layers: r.layers.map((l) => ({
      template_id: l.templateId,
      creator_id: l.creatorId,
      version: Number(l.version),
      agent_name: l.agentName,
      pinned: l.pinned,
    })),
    identity_md: r.identityMd,
  };
}

export function withTemplate(status: number, t: Template | undefined): RestResponse {
  if (!t) throw new Error("templates service answered without a template");
  return { status, body: templateToJson(t), headers: { etag: etag(t.version) } };
}

/** A page of templates, as the store and the curation lists answer it: `{templates, next_cursor}`. */
export const templatesPage = (res: { templates: Template[]; nextPageToken: string }) => ({
  templates: res.templates.map(templateToJson),
  next_cursor: nextCursor(res.nextPageToken),
});
