// The pool of learned patterns from the command line (docs/cli.md, "Learned
// patterns"; docs/patterns.md): what a creator's template's agents offered,
// with how many agents offered and adopted each and the refused offers by
// reason; the whole pool's health; and the creator's hold and decisions on
// the lessons that would reach their template's agents, each signed.
import { UsageError } from "../../core/errors.js";
import { request, type Context, type Page } from "../../core/http.js";
import { loadKey } from "../../core/key-store.js";
import { signRest } from "../../core/signing.js";

const templatePath = (id: string) => `/api/pool/templates/${encodeURIComponent(id)}`;

/** My template's patterns (signed in as its creator); expired ones too with `expired`. */
export async function templatePatterns(
  ctx: Context,
  templateId: string,
  opts: Page & { expired?: boolean } = {},
): Promise<unknown> {
  const query = { expired: opts.expired ? true : undefined, limit: opts.limit, cursor: opts.cursor };
  return (
    await request(ctx, "GET", `/api/pool/templates/${encodeURIComponent(templateId)}/patterns`, {
      auth: "session",
      query,
    })
  ).body;
}

/** The pool's live, expired, refused (by reason) and adopted counts: anonymous. */
export async function poolHealth(ctx: Context): Promise<unknown> {
  return (await request(ctx, "GET", "/api/pool/patterns/health")).body;
}

/** Holds lessons for my approval (`on`), or stops (`off`): signed SetPatternHold. */
export async function setPatternHold(ctx: Context, templateId: string, hold: boolean): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const signature = await signRest(ctx, key, "SetPatternHold", { templateId, hold });
  return (
    await request(ctx, "PUT", `${templatePath(templateId)}/pattern-hold`, {
      auth: "session",
      body: { hold, signature },
    })
  ).body;
}

/** The lessons that would reach my template's agents: waiting ones, or all with `all`. */
export async function heldPatterns(
  ctx: Context,
  templateId: string,
  opts: { all?: boolean; limit?: number | undefined } = {},
): Promise<unknown> {
  const query = { decided: opts.all ? true : undefined, limit: opts.limit };
  return (await request(ctx, "GET", `${templatePath(templateId)}/patterns/held`, { auth: "session", query })).body;
}

/** Approves or rejects one lesson for my template's agents: signed ReviewPattern. */
export async function reviewPattern(
  ctx: Context,
  templateId: string,
  patternId: string,
  decision: string,
): Promise<unknown> {
  if (decision !== "approve" && decision !== "reject")
    throw new UsageError(`DECISION must be "approve" or "reject", got "${decision}"`);
  const approve = decision === "approve";
  const key = await loadKey(ctx.keyFile);
  const signature = await signRest(ctx, key, "ReviewPattern", { templateId, patternId, approve });
  return (
    await request(ctx, "POST", `${templatePath(templateId)}/patterns/review`, {
      auth: "session",
      body: { pattern_id: patternId, decision: approve ? "approved" : "rejected", signature },
    })
  ).body;
}
