// Whether the studio offers a rollback to a version, for the history and the
// comparison alike. Pure. A rollback makes a new version with the target's
// content, so to the current version, or to one whose content is the current
// one's (a rollback before it, an edit undone since), it would change nothing:
// it is not offered, and the page says why instead.
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { contentToJson, jsonHash } from "@convos-pool/kit/browser";

export type RollbackOffer = { offered: true } | { offered: false; why: "current" | "same content" };

const hashOf = (t: Template | undefined) => (t?.content ? jsonHash(contentToJson(t.content)) : undefined);

/** Whether a rollback from `current` to `target` (a version's snapshot) is offered. */
export function rollbackOffer(target: Template | undefined, current: Template): RollbackOffer {
  if (target?.version === current.version) return { offered: false, why: "current" };
  const hash = hashOf(target);
  if (hash !== undefined && hash === hashOf(current)) return { offered: false, why: "same content" };
  return { offered: true };
}
