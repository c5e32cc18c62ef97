// OpenClaw workspaces <-> templates (docs/cli.md, "OpenClaw workspaces").
// An OpenClaw agent lives in Markdown files: IDENTITY.md (a list of Name,
// Creature, Vibe, Emoji, Avatar), SOUL.md (persona: `## Core Truths`,
// `## Boundaries`, `## Vibe` …), AGENTS.md (operating instructions), TOOLS.md
// (notes on the local setup) and USER.md (the person it serves). The import
// maps what has a place in a template's SOUL, declares the pool tools
// TOOLS.md names, keeps the rest as instructions, and reports all of it,
// including what it could not map. USER.md is the user's own and never part
// of a shared template. The export writes the four shared files back, in the
// form the import reads, so what maps survives the round trip.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
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

/** The workspace files by name (IDENTITY.md …), as read. */
export type WorkspaceFiles = Partial<Record<WorkspaceFile, string>>;
export const WORKSPACE_FILES = ["IDENTITY.md", "SOUL.md", "AGENTS.md", "TOOLS.md", "USER.md"] as const;
export type WorkspaceFile = (typeof WORKSPACE_FILES)[number];

/** What went where: `to` a content field ("soul.philosophy.principles", "instructions", "tools[sms]"), or why it could not. */
export interface MappingNote {
  from: string;
  to?: string;
  why?: string;
}
export interface ImportReport {
  mapped: MappingNote[];
  unmapped: MappingNote[];
}

// ---------------------------------------------------------------- Markdown

interface Section {
  heading: string;
  body: string;
}
interface Doc {
  /** Text before the first `## ` heading, without front matter and a title naming the file. */
  preamble: string;
  sections: Section[];
}

const withoutFrontMatter = (text: string) => text.replace(/\r\n?/g, "\n").replace(/^---\n[\s\S]*?\n---\n/, "");
/** OpenClaw titles each file with its own name ("# SOUL.md - Who You Are"): not the agent's words. */
const isFileTitle = (line: string, file: WorkspaceFile) => /^#\s/.test(line) && line.includes(file);

/** A file's text as it is, but for front matter and its title. */
function withoutTitle(text: string, file: WorkspaceFile): string {
  const lines = withoutFrontMatter(text).split("\n");
  const title = lines.findIndex((l) => l.trim() !== "");
  const first = lines[title];
  if (first !== undefined && isFileTitle(first, file)) lines.splice(title, 1);
  return lines.join("\n").trim();
}

/** Splits a workspace file at its `## ` headings (outside code fences). */
function parseDoc(text: string, file: WorkspaceFile): Doc {
  const lines = withoutFrontMatter(text).split("\n");
  const doc: Doc = { preamble: "", sections: [] };
  let current: string[] = [];
  let heading: string | undefined;
  let fenced = false;
  const flush = () => {
    const body = current.join("\n").trim();
    if (heading === undefined) doc.preamble = body;
    else doc.sections.push({ heading, body });
    current = [];
  };
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const h2 = fenced ? undefined : /^##\s+(.+?)\s*#*\s*$/.exec(line)?.[1];
    if (h2 !== undefined) {
      flush();
      heading = h2;
    } else if (fenced || heading !== undefined || !isFileTitle(line, file)) {
      current.push(line);
    }
  }
  flush();
  return doc;
}

const normalize = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^a-z ]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();

/** The items of a section written as a list (or, with no list, as one paragraph each); undefined when it is anything else. */
function items(body: string): string[] | undefined {
  if (body === "") return [];
  if (/^\s*(```|~~~|#|\|)/m.test(body)) return undefined;
  const bullet = /^\s*(?:[-*+]|\d+[.)])\s+/;
  const lines = body.split("\n");
  if (bullet.test(lines[0] ?? "")) {
    const out: string[] = [];
    for (const line of lines) {
      if (bullet.test(line)) out.push(line.replace(bullet, "").trim());
      else if (line.trim() === "") continue;
      else if (/^\s+/.test(line) && out.length > 0) out[out.length - 1] += ` ${line.trim()}`;
      else return undefined;
    }
    return out;
  }
  const paragraphs = body.split(/\n\s*\n/).map((p) => p.trim());
  if (paragraphs.some((p) => bullet.test(p))) return undefined;
  return paragraphs.map((p) => p.replace(/\s*\n\s*/g, " "));
}

// ---------------------------------------------------------------- SOUL.md

type ListField = "principles" | "values" | "domains" | "skills" | "limitations" | "restricted_topics";
/** Where each SOUL list lives, its limit per item, and the heading it is exported under (one the import reads back). */
const LISTS: Record<
  ListField,
  { section: "philosophy" | "capabilities" | "constraints"; max: number; heading: string }
> = {
  principles: { section: "philosophy", max: SOUL_LIMITS.principle, heading: "Core Truths" },
  values: { section: "philosophy", max: SOUL_LIMITS.principle, heading: "Values" },
  domains: { section: "capabilities", max: SOUL_LIMITS.capability, heading: "Domains" },
  skills: { section: "capabilities", max: SOUL_LIMITS.capability, heading: "Skills" },
  limitations: { section: "capabilities", max: SOUL_LIMITS.capability, heading: "Limitations" },
  restricted_topics: { section: "constraints", max: SOUL_LIMITS.topic, heading: "Restricted Topics" },
};
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
const TOOL_NAMES: Record<(typeof POOL_TOOL_IDS)[number], string> = {
  sms: "SMS",
  email: "Email",
  crypto: "Crypto wallet",
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

// ---------------------------------------------------------------- import

/** The workspace files in DIR, and the names of everything else there (OpenClaw's own: HEARTBEAT.md, memory/ …). */
export async function readWorkspace(dir: string): Promise<{ files: WorkspaceFiles; others: string[] }> {
  const names = await readdir(dir);
  const files: WorkspaceFiles = {};
  for (const name of WORKSPACE_FILES) if (names.includes(name)) files[name] = await readFile(join(dir, name), "utf8");
  return {
    files,
    others: names.filter((n) => !(WORKSPACE_FILES as readonly string[]).includes(n) && !n.startsWith(".")).sort(),
  };
}

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

// ---------------------------------------------------------------- export

const bullets = (items: string[]) => items.map((i) => `- ${i}`).join("\n");

/** The four shared files of a template (USER.md is the user's to write), and what had no place in them. */
export function exportWorkspace(content: TemplateContentJson): {
  files: Partial<Record<WorkspaceFile, string>>;
  notWritten: string[];
} {
  const soul = content.soul ?? {};
  const { identity, philosophy, capabilities, behavior, constraints } = soul;
  const notWritten: string[] = [];
  const identityLines = [
    `- **Name:** ${identity?.name || content.agent_name}`,
    ...(identity?.role ? [`- **Creature:** ${identity.role}`] : []),
    ...(identity?.description ? [`- **Vibe:** ${identity.description.replace(/\s*\n\s*/g, " ")}`] : []),
  ];
  if (identity?.description?.includes("\n"))
    notWritten.push("soul.identity.description's line breaks (IDENTITY.md's Vibe is one line)");
  if (identity?.name && identity.name !== content.agent_name)
    notWritten.push(`agent_name "${content.agent_name}" (IDENTITY.md has one name: the SOUL's)`);

  const lists: Array<[ListField, string[] | undefined]> = [
    ["principles", philosophy?.principles],
    ["values", philosophy?.values],
    ["domains", capabilities?.domains],
    ["skills", capabilities?.skills],
    ["limitations", capabilities?.limitations],
    ["restricted_topics", constraints?.restricted_topics],
  ];
  const soulSections = lists.flatMap(([field, l]) =>
    l?.length ? [`## ${LISTS[field].heading}\n\n${bullets(l)}`] : [],
  );
  const style = [
    ...(behavior?.response_style ? [`Style: ${behavior.response_style}`] : []),
    ...(behavior?.progressive_disclosure ? ["Progressive disclosure: yes"] : []),
    ...(behavior?.max_output_tokens ? [`Max output tokens: ${behavior.max_output_tokens}`] : []),
  ];
  if (style.length) soulSections.push(`## Response Style\n\n${bullets(style)}`);
  if (constraints?.escalation_rules?.length) {
    soulSections.push(
      `## Escalation\n\n${bullets(constraints.escalation_rules.map((r) => `When ${r.condition}: ${r.action}`))}`,
    );
  }

  const poolTools = content.tools.filter((t) => t.provisioning === "pool");
  for (const t of content.tools.filter((t) => t.provisioning === "user"))
    notWritten.push(`tools[${t.id}] (a user tool: OpenClaw has no declaration for one)`);
  const toolLines = poolTools.map(
    (t) =>
      `- Pool tool \`${t.id}\`: ${t.name || TOOL_NAMES[t.id as (typeof POOL_TOOL_IDS)[number]]}${t.description ? ` — ${t.description.replace(/\s*\n\s*/g, " ")}` : ""}`,
  );
  if (content.model?.default && content.model.default !== DEFAULT_MODEL.default)
    notWritten.push(`model "${content.model.default}"`);
  for (const field of ["description", "category", "clone_directive", "max_trust_level"] as const)
    if (content[field]) notWritten.push(field);
  if (content.tags.length) notWritten.push("tags");
  for (const c of content.connections ?? [])
    notWritten.push(`connections[${c.kind}] (a phone connection: OpenClaw has no declaration for one)`);

  return {
    files: {
      "IDENTITY.md": `# IDENTITY.md - Who Am I?\n\n${identityLines.join("\n")}\n`,
      "SOUL.md": `# SOUL.md - Who You Are\n${soulSections.map((s) => `\n${s}\n`).join("")}`,
      "AGENTS.md": `# AGENTS.md - Instructions\n\n${content.instructions.trim()}\n`,
      "TOOLS.md": `# TOOLS.md - Pool Tools\n${toolLines.length ? `\n${toolLines.join("\n")}\n` : ""}`,
    },
    notWritten,
  };
}
