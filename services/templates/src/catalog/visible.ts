// Reading a template as its caller may see it (docs/store.md): its creator
// always; anyone a public, active one in the store; a delisted one only its
// creator and the operators.
import type { EntityManager } from "@mikro-orm/postgresql";
import { notFound } from "@convos-pool/kit/content";
import { checkTemplateId } from "./checks.js";
import { isDelisted } from "./standing.js";
import { TemplateRow, type TemplateRowType } from "../db/entities.js";

/**
 * The template `id` if `caller` may see it, else not found (as if it did
 * not exist). `operators` are the operators' inbox ids.
 */
export async function visibleTemplate(
  em: EntityManager,
  operators: ReadonlySet<string>,
  id: string,
  caller: string | undefined,
): Promise<TemplateRowType> {
  checkTemplateId(id);
  const row = await em.findOne(TemplateRow, { id });
  if (row && caller === row.creatorId) return row;
  const inStore = row?.visibility === "public" && row.status === "active";
  const operator = caller !== undefined && operators.has(caller);
  // Operators read a delisted template whatever its creator did with it since.
  if (row && (inStore || operator) && ((await isDelisted(em, id)) ? operator : inStore)) return row;
  throw notFound(`template ${id}`);
}
