// A template written as an OpenClaw workspace (docs/cli.md, "OpenClaw
// workspaces"): the four shared files, in the form the import reads back, and
// what had no place in them.
import { DEFAULT_MODEL, type POOL_TOOL_IDS, type TemplateContentJson } from "@convos-pool/kit/content";
import { LISTS, TOOL_NAMES, type ListField, type WorkspaceFile } from "./workspace.js";

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
  for (const r of content.routines ?? [])
    notWritten.push(`routines[${r.id}] (a routine: this export writes no schedule for OpenClaw)`);

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
