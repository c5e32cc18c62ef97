/**
 * A template's release as the pool holds it: the creator-signed version with
 * its bases', passed on unchanged (instances check the signatures), and what
 * the pool reads from it, resolved as its agents resolve it. Claims read a
 * template with its release from the template service (TemplateSource);
 * instruction sync decodes the release it holds (sync.ts).
 */
import { fromBinary } from "@bufbuild/protobuf";
import {
  SignedTemplateSchema,
  type SignedTemplate,
  type Template,
  type ToolGrant,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  DEFAULT_MODEL,
  contentToJson,
  releaseKey,
  resolveContent,
  type ModelJson,
  type TemplateContentJson,
} from "@convos-pool/kit/content";

/** A template, and its current content version as its creator signed it, with its bases' (its base first). */
export interface TemplateWithRelease {
  template: Template;
  release: SignedTemplate;
  bases: SignedTemplate[];
  /** What the operators let the pool pay for under it (docs/limits.md); none when unset. */
  grant?: ToolGrant | undefined;
}

/** Reads templates (TemplateReleaseService); who may use one is decided by the claim (claim-request.ts visibleTo). */
export interface TemplateSource {
  getTemplate(templateId: string): Promise<TemplateWithRelease>;
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
