// Template content files: the REST JSON form of docs/rest.md, read by the
// kit's content/template-json.ts (optional fields filled as the server fills them).
// The CLI sends the filled form, every field explicit, so the server has
// nothing left to guess.
import { readFile } from "node:fs/promises";
import {
  ContentJsonError,
  fillContentJson,
  fillPatchJson,
  jsonHash,
  type TemplateContentJson,
  type TemplatePatchJson,
} from "@convos-pool/kit/content";
import type { Hex } from "viem";
import { CliError } from "./errors.js";

/** A content file read as the server reads it; its mistakes as the CLI's errors. */
export function fillContent(raw: unknown, where = "content"): TemplateContentJson {
  return asCliError(() => fillContentJson(raw, where));
}

/** A patch file read as the server reads it; its mistakes as the CLI's errors. */
export function fillPatch(raw: unknown, where = "patch"): TemplatePatchJson {
  return asCliError(() => fillPatchJson(raw, where));
}

function asCliError<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ContentJsonError) throw new CliError(err.message);
    throw err;
  }
}

/** The `contentHash` of CreateTemplate / UpdateTemplate. */
export function contentHash(content: TemplateContentJson): Hex {
  return jsonHash(content);
}

/** The `patchHash` of PatchTemplate. */
export function patchHash(patch: TemplatePatchJson): Hex {
  return jsonHash(patch);
}

/** Reads and parses a JSON file; errors name the file. */
export async function readJsonFile(path: string, shownAs = path): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CliError(`${shownAs}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${shownAs}: not valid JSON: ${(err as Error).message}`);
  }
}
