// IDENTITY.md: what an agent reads as who it is, rendered from the content
// it runs on (its template with every base applied). The instance writes it
// at Configure and on every update; the templates service shows it in the
// resolved view, so a creator sees exactly what the agents read.
// The rendering is documented in docs/templates.md ("SOUL").
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { soulToJson, type EscalationActionName, type ResponseStyleName, type SoulJson } from "./soul.js";

const RESPONSE_STYLE_TEXT: Record<ResponseStyleName, string> = {
  structured: "Structured: a headline, then bullets, then detail.",
  conversational: "Conversational: plain sentences, as a person would write them.",
  minimal: "Minimal: as short as an answer can be.",
};

const ESCALATION_TEXT: Record<EscalationActionName, string> = {
  escalate_to_human: "hand it to a person in the conversation",
  request_approval: "ask your owner for approval first",
  block: "decline",
};

const list = (items: string[]) => items.map((item) => `- ${item}`).join("\n");

/** A `## heading` and its parts (each a paragraph or a list), or nothing when every part is empty. */
function section(heading: string, parts: Array<string | undefined>): string[] {
  const body = parts.filter((p): p is string => !!p);
  return body.length > 0 ? [`## ${heading}`, ...body] : [];
}

/** A label and its list, when there is one. */
const labelled = (label: string, items: string[] | undefined) =>
  items?.length ? `${label}:\n${list(items)}` : undefined;

/** The SOUL's sections, in the order of docs/templates.md; empty ones are left out. */
function soulBlocks(soul: SoulJson): string[] {
  const { identity: i, philosophy: p, capabilities: c, behavior: b, constraints: k } = soul;
  const behavior = [
    b?.response_style && (RESPONSE_STYLE_TEXT[b.response_style] ?? b.response_style),
    b?.progressive_disclosure && "Summary first; detail when asked.",
    b?.max_output_tokens && `Keep an answer under about ${b.max_output_tokens} tokens.`,
  ].filter((line): line is string => !!line);
  const rules = k?.escalation_rules?.map((r) => `When ${r.condition}: ${ESCALATION_TEXT[r.action] ?? r.action}.`);
  return [
    ...[i?.role && `**Role:** ${i.role}`, i?.description?.trim()].filter((p): p is string => !!p),
    ...section("Principles", [p?.principles && list(p.principles)]),
    ...section("Values", [p?.values && list(p.values)]),
    ...section("Capabilities", [
      labelled("Domains", c?.domains),
      labelled("Skills", c?.skills),
      labelled("Limitations", c?.limitations),
    ]),
    ...section("How you answer", [behavior.length ? list(behavior) : undefined]),
    ...section("Constraints", [
      labelled("Topics you decline", k?.restricted_topics),
      labelled("When to hold back", rules),
    ]),
  ];
}

/**
 * The agent's name (its SOUL's, else the template's) as the heading; the
 * SOUL's sections, if any, then the instructions verbatim under their own
 * heading. Without a SOUL: the name, then the instructions.
 */
export function renderIdentity(content: Pick<TemplateContent, "agentName" | "instructions" | "soul">): string {
  const soul = soulToJson(content.soul);
  const instructions = content.instructions.trim();
  if (!soul) return `# ${content.agentName}\n\n${instructions}\n`;
  const blocks = [
    `# ${soul.identity?.name || content.agentName}`,
    ...soulBlocks(soul),
    "## Instructions",
    instructions,
  ];
  return `${blocks.join("\n\n")}\n`;
}

/**
 * The SOUL alone, for runtimes that keep it in a file of its own (OpenClaw's
 * SOUL.md): its name as the heading, then its sections. "" without a SOUL.
 */
export function renderSoul(content: Pick<TemplateContent, "agentName" | "soul">): string {
  const soul = soulToJson(content.soul);
  if (!soul) return "";
  return `${[`# ${soul.identity?.name || content.agentName}`, ...soulBlocks(soul)].join("\n\n")}\n`;
}
