// The store's curation from the command line (docs/cli.md, "A store people
// can trust"; docs/store.md): reports, the operators' signed actions, the
// creator's request for review, the featured list, the curation log, and
// release notes and diffs. Operators' commands sign with the key, whose inbox
// must be one of the pool's operators.
import { loadKey } from "../../core/key-store.js";
import { request, sessionIfKey, type Context, type Page } from "../../core/http.js";
import { signRest } from "../../core/signing.js";
import { baseVersion } from "../templates/commands.js";

const templatePath = (id: string) => `/api/pool/templates/${encodeURIComponent(id)}`;

/** Reports a template in the store, as the signed-in key. */
export async function report(ctx: Context, id: string, reason: string): Promise<unknown> {
  return (await request(ctx, "POST", `${templatePath(id)}/reports`, { auth: "session", body: { reason } })).body;
}

/** Operators: open reports (all of them with `all`), of one template or every one. */
export async function reports(
  ctx: Context,
  opts: Page & { template?: string | undefined; all?: boolean | undefined } = {},
): Promise<unknown> {
  const query = { template: opts.template, all: opts.all ? true : undefined, limit: opts.limit, cursor: opts.cursor };
  return (await request(ctx, "GET", "/api/pool/reports", { auth: "session", query })).body;
}

/** An operator's signed action on a template, the key's inbox as `operator_id`. */
async function operatorAction(
  ctx: Context,
  method: string,
  path: string,
  operation: "DelistTemplate" | "RelistTemplate" | "DeclineTemplateReview" | "DismissTemplateReports",
  id: string,
  text: { reason: string } | { note: string },
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const signature = await signRest(ctx, key, operation, { templateId: id, ...text });
  return (await request(ctx, method, path, { body: { operator_id: key.inbox_id, ...text, signature } })).body;
}

export const delist = (ctx: Context, id: string, reason: string) =>
  operatorAction(ctx, "PUT", `${templatePath(id)}/delisting`, "DelistTemplate", id, { reason });
export const relist = (ctx: Context, id: string, note = "") =>
  operatorAction(ctx, "DELETE", `${templatePath(id)}/delisting`, "RelistTemplate", id, { note });
export const decline = (ctx: Context, id: string, note: string) =>
  operatorAction(ctx, "POST", `${templatePath(id)}/review/decline`, "DeclineTemplateReview", id, { note });
export const dismiss = (ctx: Context, id: string, note = "") =>
  operatorAction(ctx, "POST", `${templatePath(id)}/reports/dismiss`, "DismissTemplateReports", id, { note });

/** The creator asks operators to review a delisted template at version N (default: the current one). */
export async function appeal(ctx: Context, id: string, message: string, version?: number): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const v = await baseVersion(ctx, id, version);
  const signature = await signRest(ctx, key, "RequestTemplateReview", { templateId: id, version: BigInt(v), message });
  return (await request(ctx, "POST", `${templatePath(id)}/review`, { body: { message, signature }, ifMatch: v })).body;
}

export async function delistings(
  ctx: Context,
  opts: Page & { reviewRequested?: boolean | undefined } = {},
): Promise<unknown> {
  const query = { review_requested: opts.reviewRequested ? true : undefined, limit: opts.limit, cursor: opts.cursor };
  return (await request(ctx, "GET", "/api/pool/delistings", { auth: "session", query })).body;
}

/** Operators: puts a template on the featured list, or (`featured` false) takes it off. */
export async function feature(ctx: Context, id: string, featured: boolean): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const signature = await signRest(ctx, key, "SetFeatured", { templateId: id, featured });
  return (
    await request(ctx, featured ? "PUT" : "DELETE", `/api/pool/featured/${encodeURIComponent(id)}`, {
      body: { operator_id: key.inbox_id, signature },
    })
  ).body;
}

/**
 * Operators: lets the pool pay for numbers, mailboxes and wallet funding
 * under a template (`tmpl_…`) or a creator (an inbox id), signed
 * `SetToolGrant` (docs/limits.md); no tools and no funding takes it back.
 */
export async function grantTools(
  ctx: Context,
  subject: string,
  opts: { tools?: string | undefined; fundWei?: string | undefined; maxLiveTools?: number | undefined },
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const isTemplate = subject.startsWith("tmpl_");
  const tools = [
    ...new Set(
      (opts.tools ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ].sort();
  const fundWei = opts.fundWei?.trim() || "0";
  if (!/^(0|[1-9][0-9]{0,77})$/.test(fundWei)) throw new Error("--fund-wei: a whole number of wei");
  const fields = {
    templateId: isTemplate ? subject : "",
    creatorId: isTemplate ? "" : subject,
    tools: tools.join(","),
    fundWei: BigInt(fundWei),
    maxLiveTools: opts.maxLiveTools ?? 0,
  };
  const signature = await signRest(ctx, key, "SetToolGrant", fields);
  return (
    await request(ctx, "PUT", "/api/pool/tool-grants", {
      body: {
        operator_id: key.inbox_id,
        template_id: fields.templateId,
        creator_id: fields.creatorId,
        tools,
        fund_wei: fundWei,
        max_live_tools: fields.maxLiveTools,
        signature,
      },
    })
  ).body;
}

/** Operators: the grants in force. */
export async function toolGrants(ctx: Context, page: Page = {}): Promise<unknown> {
  return (await request(ctx, "GET", "/api/pool/tool-grants", { auth: "session", query: { ...page } })).body;
}

/** The featured list: anonymous. */
export async function featured(ctx: Context, page: Page = {}): Promise<unknown> {
  return (await request(ctx, "GET", "/api/pool/featured", { query: { ...page } })).body;
}

/** Operators: every entry; a creator: those about their templates. */
export async function curationLog(ctx: Context, opts: Page & { template?: string | undefined } = {}): Promise<unknown> {
  return (
    await request(ctx, "GET", "/api/pool/curation-log", {
      auth: "session",
      query: { template: opts.template, limit: opts.limit, cursor: opts.cursor },
    })
  ).body;
}

/** Two versions compared; signed in when a key exists (the creator sees every version). */
export async function diff(ctx: Context, id: string, from: number, to: number): Promise<unknown> {
  return (await request(ctx, "GET", `${templatePath(id)}/diff`, { auth: await sessionIfKey(ctx), query: { from, to } }))
    .body;
}

/** The release notes of each content version, newest first; signed in when a key exists, as `diff`. */
export async function notes(ctx: Context, id: string, page: Page = {}): Promise<unknown> {
  return (await request(ctx, "GET", `${templatePath(id)}/notes`, { auth: await sessionIfKey(ctx), query: { ...page } }))
    .body;
}
