/**
 * What PutStateMarks does with each mark it is handed, pure: which are
 * refused at once (malformed, named twice) and which go on to the agent's
 * signature and the database (service.ts). A mark only ever rises (sql.ts).
 */
import { INSTANCE_ID_PATTERN } from "@convos-pool/kit/content";

/** Marks in one call at most (a host's vault pass carries at most as many agents). */
export const MAX_MARKS_PER_CALL = 1000;
/** A sequence is kept as PostgreSQL's bigint. */
export const MAX_SEQUENCE = (1n << 63n) - 1n;

export interface MarkIn {
  instanceId: string;
  inboxId: string;
  sequence: bigint;
}

export type MarkPlan<M extends MarkIn> =
  | { kind: "check"; mark: M }
  | { kind: "refuse"; instanceId: string; error: string };

/** Each mark's step, in the order asked. */
export function planPutMarks<M extends MarkIn>(marks: readonly M[]): MarkPlan<M>[] {
  const seen = new Set<string>();
  return marks.map((mark): MarkPlan<M> => {
    const refuse = (error: string): MarkPlan<M> => ({ kind: "refuse", instanceId: mark.instanceId, error });
    if (!INSTANCE_ID_PATTERN.test(mark.instanceId)) return refuse("instance_id: not an instance id");
    if (seen.has(mark.instanceId)) return refuse("instance_id: named twice in one call; send the newest once");
    seen.add(mark.instanceId);
    if (mark.inboxId === "") return refuse("inbox_id: required, the agent's inbox");
    if (mark.sequence < 1n || mark.sequence > MAX_SEQUENCE) return refuse(`sequence: must be 1 to ${MAX_SEQUENCE}`);
    return { kind: "check", mark };
  });
}
