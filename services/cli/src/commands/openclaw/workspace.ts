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
// Here: what both share (the files, the report, where each SOUL list goes,
// the tools' names) and the reading of a workspace's files; import.ts maps
// them in, export.ts writes them out, markdown.ts reads their Markdown.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { SOUL_LIMITS, type POOL_TOOL_IDS } from "@convos-pool/kit/content";

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

export type ListField = "principles" | "values" | "domains" | "skills" | "limitations" | "restricted_topics";
/** Where each SOUL list lives, its limit per item, and the heading it is exported under (one the import reads back). */
export const LISTS: Record<
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

/** The pool tools by the names a workspace shows them under. */
export const TOOL_NAMES: Record<(typeof POOL_TOOL_IDS)[number], string> = {
  sms: "SMS",
  email: "Email",
  crypto: "Crypto wallet",
};

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
