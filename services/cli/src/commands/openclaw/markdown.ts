// The Markdown of a workspace file as the import reads it: its front matter
// and title dropped, then sections by heading, and a section's items.
import type { WorkspaceFile } from "./workspace.js";

export interface Section {
  heading: string;
  body: string;
}
export interface Doc {
  /** Text before the first `## ` heading, without front matter and a title naming the file. */
  preamble: string;
  sections: Section[];
}

const withoutFrontMatter = (text: string) => text.replace(/\r\n?/g, "\n").replace(/^---\n[\s\S]*?\n---\n/, "");
/** OpenClaw titles each file with its own name ("# SOUL.md - Who You Are"): not the agent's words. */
const isFileTitle = (line: string, file: WorkspaceFile) => /^#\s/.test(line) && line.includes(file);

/** A file's text as it is, but for front matter and its title. */
export function withoutTitle(text: string, file: WorkspaceFile): string {
  const lines = withoutFrontMatter(text).split("\n");
  const title = lines.findIndex((l) => l.trim() !== "");
  const first = lines[title];
  if (first !== undefined && isFileTitle(first, file)) lines.splice(title, 1);
  return lines.join("\n").trim();
}

/** Splits a workspace file at its `## ` headings (outside code fences). */
export function parseDoc(text: string, file: WorkspaceFile): Doc {
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

export const normalize = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^a-z ]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();

/** The items of a section written as a list (or, with no list, as one paragraph each); undefined when it is anything else. */
export function items(body: string): string[] | undefined {
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
