/**
 * What the requester learns of a claim that failed after it began (rolled
 * back by then): the gist, never a transport message naming internal
 * addresses (the log has the rest), with a code that says whether to retry.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { failedPreconditionOn, fieldViolations, invalidArgument } from "@convos-pool/kit/content";
import { ProvisioningError } from "../providers/types.js";

/** Where a claim was when it failed: decides what the rollback must undo and what the requester is told. */
export type Stage = "provision" | "configure" | "join" | "complete";

/** A pool tool that could not be provisioned: exhausted (RESOURCE_EXHAUSTED) or its provider away (UNAVAILABLE). */
export function provisioningFailure(toolId: string, err: unknown): ConnectError {
  if (err instanceof ProvisioningError) {
    return new ConnectError(
      `could not provision tool "${toolId}": ${err.message}; nothing was claimed, try again`,
      err.reason === "exhausted" ? Code.ResourceExhausted : Code.Unavailable,
    );
  }
  return new ConnectError(
    `could not provision tool "${toolId}": ${(err as Error)?.message ?? String(err)}; nothing was claimed, try again`,
    Code.Unavailable,
  );
}

/**
 * A join the conversation's creator never let through. Only their Convos app
 * can add the agent, and from here an app that is closed, an invite it no
 * longer takes and a conversation it cannot grow all look the same.
 */
export const CREATOR_SILENT =
  "the conversation's creator did not let the agent in in time: their Convos app adds it, and it may be closed " +
  "(or the invite no longer works, or the conversation is full). Ask them to open Convos, then try again; nothing was claimed";

/** What the requester learns of a failure at `stage`. */
export function claimFailure(stage: Stage, err: unknown): ConnectError {
  if (stage === "provision" && err instanceof ConnectError) return err;
  const reason = !(err instanceof ConnectError)
    ? "an internal error"
    : [Code.Unavailable, Code.Internal, Code.Unknown].includes(err.code)
      ? "the agent's host did not answer"
      : err.rawMessage;
  if (stage === "configure") {
    return new ConnectError(
      `the agent instance could not be configured (${reason}); nothing was claimed, try again`,
      Code.Unavailable,
    );
  }
  if (stage === "join") {
    const code = err instanceof ConnectError ? err.code : Code.Unavailable;
    if (code === Code.InvalidArgument) {
      // The instance names the invite too: its description, not the field twice.
      const said = fieldViolations(err).find((v) => v.field === "conversation_invite")?.description;
      return invalidArgument("conversation_invite", `could not be joined: ${said ?? reason}`);
    }
    // A conversation the agent may not stay in (a full one: full-conversation.ts) is named as such too.
    const refused = fieldViolations(err).find((v) => v.field === "conversation_invite")?.description;
    if (code === Code.FailedPrecondition && refused) {
      return failedPreconditionOn("conversation_invite", `could not be joined: ${refused}; nothing was claimed`);
    }
    // The creator's client never answered: said as the person sees it, without its inbox or the timeout in ms (the log has them).
    if (code === Code.DeadlineExceeded) return new ConnectError(CREATOR_SILENT, Code.DeadlineExceeded);
    const passOn = [Code.FailedPrecondition, Code.PermissionDenied, Code.NotFound];
    return new ConnectError(
      `joining the conversation failed (${reason}); nothing was claimed`,
      passOn.includes(code) ? code : Code.Unavailable,
    );
  }
  if (err instanceof ConnectError) return err;
  return new ConnectError(
    `the claim could not be completed (${reason}); nothing was claimed, try again`,
    Code.Unavailable,
  );
}
