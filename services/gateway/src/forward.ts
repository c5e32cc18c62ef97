// The gateway's TemplateService: every RPC goes to the templates service over
// gRPC with the service credential and, when the caller presented a valid
// session, the caller's inbox ID in x-pool-caller. Headers of the incoming
// request are never copied: a caller-supplied x-pool-caller (or service
// token) goes nowhere. The REST paths call the same forwarder, so a request
// is authorized the same way whichever protocol it arrives on.

import type { CallOptions, Client, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { callerHeaders, createServiceClient, type Logger } from "@convos-pool/kit";
import type { SessionTokens } from "./sessions.js";

/** What a forwarded call needs from the incoming request. */
export interface CallInfo {
  /** The Authorization header as received, if any. */
  authorization: string | null | undefined;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface TemplatesUpstream {
  client: Client<typeof TemplateService>;
  /** Closes the HTTP/2 connection to the templates service. */
  close(): void;
}

/** A gRPC (HTTP/2) client of the templates service that presents the service credential. */
export function connectTemplates(url: string, serviceToken: string): TemplatesUpstream {
  return createServiceClient(TemplateService, url, serviceToken);
}

export type TemplatesForwarder = ReturnType<typeof createTemplatesForwarder>;

export function createTemplatesForwarder(upstream: Client<typeof TemplateService>, tokens: SessionTokens, log: Logger) {
  /** Wraps one client method: resolve the caller, call upstream, relay the outcome. */
  function via<Req, Res>(method: (req: Req, options?: CallOptions) => Promise<Res>) {
    return async (req: Req, call: CallInfo): Promise<Res> => {
      const caller = tokens.callerOf(call.authorization);
      try {
        return await method(req, {
          headers: caller === undefined ? {} : callerHeaders(caller),
          signal: call.signal,
          timeoutMs: call.timeoutMs,
        });
      } catch (err) {
        throw relayError(err, log);
      }
    };
  }
  return {
    createTemplate: via(upstream.createTemplate),
    getTemplate: via(upstream.getTemplate),
    updateTemplate: via(upstream.updateTemplate),
    patchTemplate: via(upstream.patchTemplate),
    setTemplateVisibility: via(upstream.setTemplateVisibility),
    archiveTemplate: via(upstream.archiveTemplate),
    deleteTemplate: via(upstream.deleteTemplate),
    listTemplateVersions: via(upstream.listTemplateVersions),
    rollbackTemplate: via(upstream.rollbackTemplate),
    browseStore: via(upstream.browseStore),
    listCreatorTemplates: via(upstream.listCreatorTemplates),
  };
}

/**
 * An error the templates service answered passes through as it is: code,
 * message and details (its FieldViolations), but not its response metadata.
 * An error of the connection itself does not leak internal addresses.
 */
function relayError(err: unknown, log: Logger): ConnectError {
  const e = ConnectError.from(err);
  if (e.isWireError) {
    const relayed = new ConnectError(e.rawMessage, e.code);
    relayed.details = e.details;
    return relayed;
  }
  if (e.code === Code.Canceled || e.code === Code.DeadlineExceeded) return new ConnectError(e.rawMessage, e.code);
  log.warn("templates service call failed", { err: e });
  return new ConnectError("templates service unavailable", Code.Unavailable);
}

/** The Connect / gRPC / gRPC-Web face of the forwarder. */
export function templateServiceImpl(fwd: TemplatesForwarder): ServiceImpl<typeof TemplateService> {
  const call = (ctx: HandlerContext): CallInfo => ({
    authorization: ctx.requestHeader.get("authorization"),
    signal: ctx.signal,
    timeoutMs: ctx.timeoutMs(),
  });
  return {
    createTemplate: (req, ctx) => fwd.createTemplate(req, call(ctx)),
    getTemplate: (req, ctx) => fwd.getTemplate(req, call(ctx)),
    updateTemplate: (req, ctx) => fwd.updateTemplate(req, call(ctx)),
    patchTemplate: (req, ctx) => fwd.patchTemplate(req, call(ctx)),
    setTemplateVisibility: (req, ctx) => fwd.setTemplateVisibility(req, call(ctx)),
    archiveTemplate: (req, ctx) => fwd.archiveTemplate(req, call(ctx)),
    deleteTemplate: (req, ctx) => fwd.deleteTemplate(req, call(ctx)),
    listTemplateVersions: (req, ctx) => fwd.listTemplateVersions(req, call(ctx)),
    rollbackTemplate: (req, ctx) => fwd.rollbackTemplate(req, call(ctx)),
    browseStore: (req, ctx) => fwd.browseStore(req, call(ctx)),
    listCreatorTemplates: (req, ctx) => fwd.listCreatorTemplates(req, call(ctx)),
  };
}
