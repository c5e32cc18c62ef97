// `pool import DIR` and `pool export ID DIR`: OpenClaw workspaces in and out
// (the mapping is import.ts and export.ts; docs/cli.md, "OpenClaw workspaces").
import { mkdir, stat, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { validateContent } from "@convos-pool/kit/content";
import { fillContent } from "../../core/content.js";
import { getTemplate, postTemplate } from "../templates/commands.js";
import { CliError } from "../../core/errors.js";
import type { Context } from "../../core/http.js";
import { exportWorkspace } from "./export.js";
import { importWorkspace } from "./import.js";
import { readWorkspace, type WorkspaceFile } from "./workspace.js";

export async function importCommand(
  ctx: Context,
  dir: string,
  opts: { dryRun?: boolean | undefined } = {},
): Promise<unknown> {
  const path = resolve(ctx.cwd, dir);
  const { files, others } = await readWorkspace(path).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`${dir}: cannot read: ${err.code ?? String(err)}`);
  });
  if (files["IDENTITY.md"] === undefined && files["SOUL.md"] === undefined && files["AGENTS.md"] === undefined) {
    throw new CliError(`${dir}: no OpenClaw workspace here (none of IDENTITY.md, SOUL.md, AGENTS.md)`);
  }
  const { content, report } = importWorkspace(files, basename(path));
  for (const name of others)
    report.unmapped.push({ from: name, why: "not one of the workspace files a template is made of: not imported" });
  try {
    validateContent(content);
  } catch (err) {
    // The kit's INVALID_ARGUMENT: its message names the field.
    throw new CliError(
      `${dir}: the template it makes is not valid: ${(err as { rawMessage?: string }).rawMessage ?? String(err)}`,
    );
  }
  if (opts.dryRun) return { content, report };
  return { template: await postTemplate(ctx, content), report };
}

export async function exportCommand(ctx: Context, id: string, dir: string): Promise<unknown> {
  const content = fillContent(await getTemplate(ctx, id), `template ${id}`);
  const { files, notWritten } = exportWorkspace(content);
  const path = resolve(ctx.cwd, dir);
  const names = Object.keys(files) as WorkspaceFile[];
  const existing = (
    await Promise.all(
      names.map((n) =>
        stat(join(path, n)).then(
          () => n,
          () => undefined,
        ),
      ),
    )
  ).filter(Boolean);
  if (existing.length > 0)
    throw new CliError(`${dir}: would overwrite ${existing.join(", ")}: export into an empty folder`);
  await mkdir(path, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(path, name), text);
  return { dir: path, files: names, not_written: notWritten };
}
