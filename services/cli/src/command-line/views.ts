// What each command prints for a person, by its name: the columns of the
// lists people read most, a line for a template a command changed; every
// other command's answer as core/render.ts reads any JSON (a page as a
// table, one thing as its fields). `--json` never comes here (main.ts).
import type { CommandName } from "./table.js";
import { fieldsText, pageText, readable, type RenderOptions } from "../core/render.js";

/** The columns of a list, names first and ids last; the rest of each row is `--json`'s. */
const TEMPLATE_COLUMNS = ["agent_name", "version", "visibility", "status", "usage_count", "updated_at", "id"];
const COLUMNS: Partial<Record<CommandName, readonly string[]>> = {
  agents: [
    "agent_name",
    "conversation_name",
    "state",
    "sync.state",
    "trust_level",
    "template_delisting.reason",
    "template_id",
    "id",
  ],
  instances: ["agent_name", "conversation_name", "state", "sync.state", "sync.applied_version", "owner_id", "id"],
  mine: TEMPLATE_COLUMNS,
  browse: TEMPLATE_COLUMNS,
  featured: TEMPLATE_COLUMNS,
  versions: ["version", "change_summary", "release_notes", "changed_at", "changed_by"],
  schedules: ["text", "kind", "next_at", "rrule", "time_zone", "asked_by_role", "pause", "conversation_id", "id"],
};

/** Commands that answer with the template they wrote: one line says what it is now. */
const TEMPLATE_WRITES: ReadonlySet<CommandName> = new Set([
  "create",
  "update",
  "patch",
  "publish",
  "unpublish",
  "archive",
  "rollback",
]);

const isRow = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** "Trip Planner  tmpl_…  version 2, public": a template as its writer checks it. */
export function templateLine(t: Record<string, unknown>): string {
  const version = typeof t.version === "number" || typeof t.version === "string" ? t.version : "?";
  const state = [`version ${version}`, t.visibility, t.status === "archived" ? "archived" : undefined];
  return [t.agent_name, t.id, state.filter((s) => typeof s === "string" && s !== "").join(", ")]
    .filter((s) => typeof s === "string" && s !== "")
    .join("  ");
}

/** A command's answer for a person; "Done." for an answer with nothing in it (a 204). */
export function view(command: CommandName, out: unknown, opts: RenderOptions = {}): string {
  return answer(command, out, opts) || "Done.";
}

/**
 * Commands whose answer is itself for a machine, JSON with or without
 * `--json`: `sign`'s signature object goes into a REST body, `import`'s
 * template into a file for `create`.
 */
const JSON_ANSWERS: ReadonlySet<CommandName> = new Set(["sign", "import"]);

function answer(command: CommandName, out: unknown, opts: RenderOptions): string {
  if (JSON_ANSWERS.has(command)) return JSON.stringify(out, null, 2);
  if (!isRow(out)) return readable(out, opts);
  if (TEMPLATE_WRITES.has(command) && typeof out.id === "string") return templateLine(out);
  const columns = COLUMNS[command];
  if (columns) return pageText(out, columns, opts) ?? fieldsText(out, opts).join("\n");
  return readable(out, opts);
}
