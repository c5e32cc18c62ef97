// A template's content from an OpenClaw workspace (docs/cli.md, "OpenClaw
// workspaces"): SOUL.md's sections into the SOUL, IDENTITY.md's list into
// its identity, the pool tools TOOLS.md names declared, the rest kept as
// instructions, and a report of what went where and what could not.
import {
  DEFAULT_MODEL,
  ESCALATION_ACTIONS,
  type POOL_TOOL_IDS,
  RESPONSE_STYLES,
  SOUL_LIMITS,
  compactSoul,
  isEmptySoul,
  type EscalationRuleJson,
  type ResponseStyleName,
  type SoulJson,
  type TemplateContentJson,
  type ToolJson,
} from "@convos-pool/kit/content";
import { items, normalize, parseDoc, withoutTitle } from "./markdown.js";
import { LISTS, TOOL_NAMES, type ImportReport, type ListField, type WorkspaceFiles } from "./workspace.js";

// ---------------------------------------------------------------- SOUL.md

/** SOUL.md headings (lower case, letters only) that hold a SOUL list. */
const LIST_HEADINGS: Record<string, ListField> = {
  "core truths": "principles",
  principles: "principles",
  "core principles": "principles",
  values: "values",
  "core values": "values",
  domains: "domains",
  expertise: "domains",
  skills: "skills",
  limitations: "limitations",
  "restricted topics": "restricted_topics",
  "topics to avoid": "restricted_topics",
};
const ESCALATION_HEADINGS = ["escalation", "escalation rules", "when to escalate"];
const STYLE_HEADINGS = ["response style", "behavior", "behaviour"];
/** About OpenClaw's own files (the agent keeping them as its memory), which a pool agent does not have. */
const OPENCLAW_ONLY = ["continuity"];

const oneLine = (s: string, max: number) => s.trim() !== "" && !/[\r\n]/.test(s) && [...s].length <= max;

/** `When CONDITION: ACTION`, ACTION as a name (`escalate_to_human`) or as IDENTITY.md words it. */
function escalationRule(item: string): EscalationRuleJson | undefined {
  const m = /^when\s+(.+?):\s*(.+?)\.?$/i.exec(item);
  if (!m) return undefined;
  const [, condition = "", actionWords = ""] = m;
  const said = actionWords.toLowerCase().replace(/[\s-]+/g, "_");
  const action =
    ESCALATION_ACTIONS.find((a) => said === a) ??
    (said.includes("approval")
      ? "request_approval"
      : said.includes("person") || said.includes("human")
        ? "escalate_to_human"
        : said === "decline"
          ? "block"
          : undefined);
  return action && oneLine(condition, SOUL_LIMITS.condition) ? { condition, action } : undefined;
}

/** `Style: minimal`, `Progressive disclosure: yes`, `Max output tokens: 300`. */
function behaviorLine(item: string, into: NonNullable<SoulJson["behavior"]>): boolean {
  const m = /^(style|response style|progressive disclosure|max output tokens):\s*(.+)$/i.exec(item);
  if (!m) return false;
  const [, said = "", saidValue = ""] = m;
  const [key, value] = [said.toLowerCase(), saidValue.trim().toLowerCase()];
  if (key.endsWith("style") && (RESPONSE_STYLES as readonly string[]).includes(value))
    into.response_style = value as ResponseStyleName;
  else if (key === "progressive disclosure" && (value === "yes" || value === "no"))
    into.progressive_disclosure = value === "yes";
  else if (key === "max output tokens" && /^\d+$/.test(value) && Number(value) <= SOUL_LIMITS.maxOutputTokens)
    into.max_output_tokens = Number(value);
  else return false;
  return true;
}

function importSoulMd(text: string, soul: SoulJson, keep: string[], report: ImportReport): void {
  const doc = parseDoc(text, "SOUL.md");
  if (doc.preamble) {
    keep.push(doc.preamble);
    report.mapped.push({ from: "SOUL.md (its opening lines)", to: "instructions" });
  }
  for (const { heading, body } of doc.sections) {
    const from = `SOUL.md "## ${heading}"`;
    const key = normalize(heading);
    const list = items(body);
    const field = LIST_HEADINGS[key];
    if (OPENCLAW_ONLY.includes(key)) {
      report.unmapped.push({ from, why: "about OpenClaw's workspace files, which a pool agent does not keep or edit" });
      continue;
    }
    if (field && list) {
      const { section, max } = LISTS[field];
      soul[section] ??= {};
      const target = soul[section] as Partial<Record<ListField, string[]>>;
      const all = [...(target[field] ?? []), ...list];
      if (all.length <= SOUL_LIMITS.items && list.every((i) => oneLine(i, max))) {
        target[field] = all;
        report.mapped.push({ from, to: `soul.${section}.${field}` });
        continue;
      }
    }
    const rules = ESCALATION_HEADINGS.includes(key) && list?.map(escalationRule);
    if (rules && rules.length <= SOUL_LIMITS.items && rules.every((r) => r !== undefined)) {
      soul.constraints ??= {};
      soul.constraints.escalation_rules = rules;
      report.mapped.push({ from, to: "soul.constraints.escalation_rules" });
      continue;
    }
    const behavior: NonNullable<SoulJson["behavior"]> = {};
    if (STYLE_HEADINGS.includes(key) && list?.every((i) => behaviorLine(i, behavior))) {
      soul.behavior = behavior;
      report.mapped.push({ from, to: "soul.behavior" });
      continue;
    }
    keep.push(`## ${heading}\n\n${body}`.trim());
    const why =
      field || rules || STYLE_HEADINGS.includes(key) ? "not a list the SOUL's limits take" : "no SOUL field for it";
    report.mapped.push({ from, to: "instructions" });
    report.unmapped.push({ from, why: `${why}: kept as instructions` });
  }
}

// ---------------------------------------------------------------- IDENTITY.md

const IDENTITY_LINE = /^\s*[-*]\s+(?:\*\*|__)?([A-Za-z ]+?)(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*(.*)$/;

/** A value as OpenClaw writes it: maybe in _italics_; a (parenthesised prompt) or nothing means not filled in. */
function identityValue(raw: string): string | undefined {
  const v = raw
    .trim()
    .replace(/^[*_]+|[*_]+$/g, "")
    .trim();
  return v === "" || /^\(.*\)$/.test(v) ? undefined : v;
}

function importIdentityMd(
  text: string,
  content: { agent_name?: string; soul: SoulJson },
  keep: string[],
  report: ImportReport,
): void {
  const doc = parseDoc(text, "IDENTITY.md");
  /** Takes the known fields out of one part of the file; returns the rest of it. */
  const take = (part: string): string => {
    const rest: string[] = [];
    const lines = part.split("\n");
    for (let line = lines.shift(); line !== undefined; line = lines.shift()) {
      const m = IDENTITY_LINE.exec(line);
      const [, label = "", value = ""] = m ?? [];
      const key = label.toLowerCase();
      if (!m || !["name", "creature", "vibe", "emoji", "avatar"].includes(key)) {
        rest.push(line);
        continue;
      }
      let raw = value;
      // The value on the next, indented line ("- **Name:**\n  _Rex_").
      const next = lines[0];
      if (raw.trim() === "" && next !== undefined && /^\s+\S/.test(next) && !IDENTITY_LINE.test(next)) {
        raw = next;
        lines.shift();
      }
      mapIdentity(key, `IDENTITY.md ${label}`, identityValue(raw), content, report);
    }
    return rest.join("\n").trim();
  };
  const sections = doc.sections.map((s) => ({ heading: s.heading, rest: take(s.body) }));
  const kept = [take(doc.preamble), ...sections.map((s) => (s.rest ? `## ${s.heading}\n\n${s.rest}` : ""))]
    .filter(Boolean)
    .join("\n\n");
  if (kept) {
    keep.push(kept);
    report.mapped.push({ from: "IDENTITY.md (the rest)", to: "instructions" });
  }
}

function mapIdentity(
  key: string,
  from: string,
  value: string | undefined,
  content: { agent_name?: string; soul: SoulJson },
  report: ImportReport,
): void {
  if (value === undefined) report.unmapped.push({ from, why: "not filled in" });
  else if (key === "name" && oneLine(value, SOUL_LIMITS.name)) {
    content.agent_name = value;
    content.soul.identity ??= {};
    content.soul.identity.name = value;
    report.mapped.push({ from, to: "agent_name, soul.identity.name" });
  } else if (key === "creature" && oneLine(value, SOUL_LIMITS.role)) {
    content.soul.identity ??= {};
    content.soul.identity.role = value;
    report.mapped.push({ from, to: "soul.identity.role" });
  } else if (key === "vibe" && [...value].length <= SOUL_LIMITS.description) {
    content.soul.identity ??= {};
    content.soul.identity.description = value;
    report.mapped.push({ from, to: "soul.identity.description" });
  } else if (key === "emoji" || key === "avatar")
    report.unmapped.push({ from, why: "a template has no emoji or avatar" });
  else report.unmapped.push({ from, why: "longer than the SOUL's limit for it" });
}

// ---------------------------------------------------------------- TOOLS.md

const TOOL_WORDS: Record<string, (typeof POOL_TOOL_IDS)[number]> = {
  sms: "sms",
  email: "email",
  "e-mail": "email",
  crypto: "crypto",
  wallet: "crypto",
};

/** The pool tool a line names, if one. */
function toolWord(line: string): (typeof POOL_TOOL_IDS)[number] | undefined {
  const word = /\b(sms|e-?mail|crypto|wallet)\b/i.exec(line)?.[1];
  return word === undefined ? undefined : TOOL_WORDS[word.toLowerCase()];
}

/** The exported form, ``- Pool tool `sms`: SMS — what it is for``, read back whole. */
const EXPORTED_TOOL = /^\s*[-*]\s+Pool tool `(sms|email|crypto)`:\s*([^—]*?)\s*(?:—\s*(.*))?$/;

function importToolsMd(text: string, tools: ToolJson[], keep: string[], report: ImportReport): void {
  const doc = parseDoc(text, "TOOLS.md");
  const notes: string[] = [];
  let fenced = false;
  const body = [doc.preamble, ...doc.sections.map((s) => `## ${s.heading}\n\n${s.body}`)].join("\n\n");
  for (const line of body.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const exported = fenced ? null : EXPORTED_TOOL.exec(line);
    const id = exported ? (exported[1] as (typeof POOL_TOOL_IDS)[number]) : fenced ? undefined : toolWord(line);
    if (id && !tools.some((t) => t.id === id)) {
      tools.push({
        id,
        name: exported?.[2] || TOOL_NAMES[id],
        provisioning: "pool",
        description: exported?.[3] || "",
        prompt: "",
        required: false,
      });
      report.mapped.push({ from: `TOOLS.md "${line.trim()}"`, to: `tools[${id}] (provisioned by the pool)` });
    }
    // A line in the exported form is the declaration itself; any other stays a note.
    if (!exported) notes.push(line);
  }
  const kept = notes.join("\n").trim();
  if (kept) {
    keep.push(kept);
    report.mapped.push({ from: "TOOLS.md (notes)", to: "instructions" });
    report.unmapped.push({
      from: "TOOLS.md (notes)",
      why: "tools other than the pool's (sms, email, crypto) cannot be declared from notes: kept as instructions",
    });
  }
}

// ---------------------------------------------------------------- the workspace

/**
 * A template's content from an OpenClaw workspace, and what went where.
 * `fallbackName` names the agent when IDENTITY.md does not (the folder's name).
 */
export function importWorkspace(
  files: WorkspaceFiles,
  fallbackName: string,
): { content: TemplateContentJson; report: ImportReport } {
  const report: ImportReport = { mapped: [], unmapped: [] };
  const into: { agent_name?: string; soul: SoulJson } = { soul: {} };
  const tools: ToolJson[] = [];
  // Instructions in this order: persona, identity notes, operating instructions, tool notes.
  const soulKept: string[] = [];
  const identityKept: string[] = [];
  const agentsKept: string[] = [];
  const toolsKept: string[] = [];
  if (files["SOUL.md"] !== undefined) importSoulMd(files["SOUL.md"], into.soul, soulKept, report);
  if (files["IDENTITY.md"] !== undefined) importIdentityMd(files["IDENTITY.md"], into, identityKept, report);
  if (files["AGENTS.md"] !== undefined) {
    const text = withoutTitle(files["AGENTS.md"], "AGENTS.md");
    if (text) agentsKept.push(text);
    report.mapped.push({ from: "AGENTS.md", to: "instructions" });
  }
  if (files["TOOLS.md"] !== undefined) importToolsMd(files["TOOLS.md"], tools, toolsKept, report);
  if (files["USER.md"] !== undefined) {
    report.unmapped.push({
      from: "USER.md",
      why: "it describes the person an agent serves, not the agent: it is not part of a shared template and was not uploaded",
    });
  }
  const agentName = into.agent_name ?? fallbackName;
  let instructions = [...soulKept, ...identityKept, ...agentsKept, ...toolsKept].join("\n\n").trim();
  if (!instructions) {
    instructions = `You are ${agentName}.`;
    report.unmapped.push({
      from: "(no instructions)",
      why: `nothing in the workspace reads as instructions: "${instructions}" stands in, edit it`,
    });
  }
  const soul = compactSoul(into.soul);
  return {
    content: {
      agent_name: agentName,
      instructions,
      model: { ...DEFAULT_MODEL },
      tools,
      description: "",
      category: "",
      tags: [],
      ...(isEmptySoul(soul) ? {} : { soul }),
    },
    report,
  };
}
