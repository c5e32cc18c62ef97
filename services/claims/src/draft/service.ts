// ClaimService.TryDraft: the studio's test chat (docs/templates.md, "The
// test chat"). Who may: a signed-in creator, for a new draft or a template
// of their own (someone else's is NOT_FOUND when private, PERMISSION_DENIED
// when public, as on the dashboard). Each answer is taken from the
// creator's allowance, then from the pool's (policy.ts takeAnswer: nothing
// half-counted), then asked of a host of the pool's runtime,
// which runs the draft through an agent's prompt and its model, runs no
// tool and keeps nothing. The pool stores nothing of it either.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type {
  DraftAnswer,
  DraftLine,
  TryDraftRequest,
  TryDraftResponseSchema,
} from "@convos-pool/gen/convos/pool/v1/draft_chat_pb.js";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateStatus, Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { notFound, permissionDenied, unauthenticated } from "@convos-pool/kit/content";
import { callerInboxId, type RateLimit } from "@convos-pool/kit/server";
import type { TemplateSource } from "../templates/release.js";
import { checkTryDraft, takeAnswer } from "./policy.js";

/** One answer of a draft from a host (InstanceHostService.TryDraft). */
export type DraftHost = (
  content: TemplateContent,
  lines: readonly DraftLine[],
  signal: AbortSignal,
) => Promise<DraftAnswer>;

export interface TryDraftDeps {
  templates: TemplateSource;
  /** Answers per creator (policy.ts DRAFT_ANSWERS). */
  perCreator: RateLimit;
  /** Answers of the whole pool, every creator together (POOL_LIMITS `test-chat.pool`; policy.ts POOL_ANSWERS). */
  perPool: RateLimit;
  host: DraftHost;
}

export function createTryDraft(deps: TryDraftDeps) {
  return async (
    req: TryDraftRequest,
    ctx: HandlerContext,
  ): Promise<MessageInitShape<typeof TryDraftResponseSchema>> => {
    const { content, lines } = checkTryDraft(req);
    const caller = callerInboxId(ctx);
    if (caller === undefined) throw unauthenticated("sign in to try a draft");
    if (req.templateId !== "") {
      const t = await deps.templates.getTemplate(req.templateId).catch((err: unknown) => {
        if (ConnectError.from(err).code === Code.NotFound) return undefined;
        throw err;
      });
      const template = t?.template;
      const isPublic = template?.visibility === Visibility.PUBLIC && template.status === TemplateStatus.ACTIVE;
      if (!template || (!isPublic && template.creatorId !== caller)) throw notFound(`template ${req.templateId}`);
      if (template.creatorId !== caller) throw permissionDenied("only the template's creator tries its drafts");
    }
    await takeAnswer(deps, caller);
    return { answer: await deps.host(content, lines, ctx.signal) };
  };
}
