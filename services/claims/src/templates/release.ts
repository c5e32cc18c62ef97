/**
 * A template's release as the pool holds it: the creator-signed version with
 * its bases', passed on unchanged (instances check the signatures), and what
 * the pool reads from it, resolved as its agents resolve it. Claims read a
 * template with its release from the template service (TemplateSource,
 * grpcTemplateSource);
 * instruction sync decodes the release it holds (sync/worker.ts).
 */
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type {
  GetTemplateReleaseResponse,
  TemplateReleaseService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  SignedTemplateSchema,
  type SignedTemplate,
  type Template,
  type ToolGrant,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  DEFAULT_MODEL,
  contentToJson,
  notFound,
  releaseKey,
  resolveContent,
  type ModelJson,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import type { ServiceClient } from "@convos-pool/kit/server";

/** A template, and its current content version as its creator signed it, with its bases' (its base first). */
export interface TemplateWithRelease {
  template: Template;
  release: SignedTemplate;
  bases: SignedTemplate[];
  /** What the operators let the pool pay for under it (docs/limits.md); none when unset. */
  grant?: ToolGrant | undefined;
  /** The models the pool serves (POOL_MODELS): an owner's choice at claim must be one; empty when not told. */
  servedModels?: readonly string[];
}

/** Reads templates (TemplateReleaseService); who may use one is decided by the claim (claim/request.ts visibleTo). */
export interface TemplateSource {
  /**
   * `atLeast`: a version the caller knows was written (an agent has applied it); a cache answers from a
   * read that old or newer, else reads again. Without it, what the cache holds will do.
   */
  getTemplate(templateId: string, atLeast?: number): Promise<TemplateWithRelease>;
}

/** TemplateSource over gRPC: TemplateReleaseService.GetTemplateRelease. */
export function grpcTemplateSource(
  client: ServiceClient<typeof TemplateReleaseService>["client"],
  timeoutMs = 10_000,
): TemplateSource {
  return {
    async getTemplate(templateId: string): Promise<TemplateWithRelease> {
      let res: GetTemplateReleaseResponse;
      try {
        res = await client.getTemplateRelease({ templateId }, { timeoutMs });
      } catch (err) {
        const e = ConnectError.from(err);
        // NOT_FOUND and bad ids are the requester's to know.
        if (e.code === Code.NotFound || e.code === Code.InvalidArgument) throw e;
        throw new ConnectError(`the template service did not answer (${e.rawMessage}); try again`, Code.Unavailable);
      }
      if (!res.template || !res.release) throw notFound(`template ${templateId}`);
      return {
        template: res.template,
        release: res.release,
        bases: res.bases,
        grant: res.toolGrant,
        servedModels: res.servedModels,
      };
    },
  };
}

/** A held release, decoded once per key. */
export interface Release {
  templateId: string;
  /** The template's version, then its bases' (kit releaseKey). */
  key: number[];
  /** Exactly as the template service pushed it. */
  message: SignedTemplate;
  /** Its bases' releases, its base first, exactly as pushed. */
  bases: SignedTemplate[];
  /** What its agents run on: the content resolved with its bases. */
  content: TemplateContentJson;
  /** The resolved model (the default when no layer sets one). */
  model: ModelJson;
  /** Pool tools the version declares with its bases, in resolved order. */
  poolTools: string[];
  defaultModel: string;
}

export function decodeRelease(bytes: Uint8Array, bases: Uint8Array[]): Release {
  return describeRelease(
    fromBinary(SignedTemplateSchema, bytes),
    bases.map((b) => fromBinary(SignedTemplateSchema, b)),
  );
}

/** What the pool needs of a release (claims and sync): resolved with its bases, as its agents resolve it. */
export function describeRelease(message: SignedTemplate, bases: SignedTemplate[] = []): Release {
  const layers = [message, ...bases].map((l) => {
    // Its callers refuse a release without content first (checkRelease, planClaim).
    if (!l.content) throw new Error(`the release of template ${l.templateId} at version ${l.version} has no content`);
    return l.content;
  });
  const content = contentToJson(resolveContent(layers));
  const model = content.model ?? { ...DEFAULT_MODEL };
  return {
    templateId: message.templateId,
    key: releaseKey(message, bases).map(Number),
    message,
    bases,
    content,
    model,
    poolTools: content.tools.filter((t) => t.provisioning === "pool").map((t) => t.id),
    defaultModel: model.default,
  };
}
