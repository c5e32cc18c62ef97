// The pool of learned patterns from the command line (docs/cli.md, "Learned
// patterns"; docs/patterns.md): what a creator's template's agents offered,
// with how many agents offered and adopted each and the refused offers by
// reason; and the whole pool's health.
import { request, type Context, type Page } from "./http.js";

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
