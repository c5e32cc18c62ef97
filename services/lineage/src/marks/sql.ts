/** Agents' high-water marks (`agent_state_marks`, migration 0008): each only ever rises. */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";

export interface KeptMark {
  instanceId: string;
  inboxId: string;
  sequence: bigint;
  signature: Pick<Signature, "signature" | "issuedAt" | "nonce">;
}

/** Keeps `m` unless a mark at or above its sequence is kept already. */
export async function raiseMark(em: EntityManager, m: KeptMark): Promise<void> {
  await em.execute(
    `insert into agent_state_marks (instance_id, inbox_id, sequence, signature, issued_at, nonce)
     values (?, ?, ?, ?, ?, ?)
     on conflict (instance_id) do update set inbox_id = excluded.inbox_id, sequence = excluded.sequence,
       signature = excluded.signature, issued_at = excluded.issued_at, nonce = excluded.nonce, marked_at = now()
       where agent_state_marks.sequence < excluded.sequence`,
    [
      m.instanceId,
      m.inboxId,
      m.sequence.toString(),
      m.signature.signature,
      m.signature.issuedAt.toString(),
      m.signature.nonce,
    ],
  );
}

/** An agent's newest mark; undefined when it never recorded one. */
export async function markOf(em: EntityManager, instanceId: string): Promise<KeptMark | undefined> {
  const [r] = await em.execute<
    { inbox_id: string; sequence: string | number; signature: string; issued_at: string | number; nonce: string }[]
  >(`select inbox_id, sequence, signature, issued_at, nonce from agent_state_marks where instance_id = ?`, [
    instanceId,
  ]);
  if (!r) return undefined;
  return {
    instanceId,
    inboxId: r.inbox_id,
    sequence: BigInt(r.sequence),
    signature: { signature: r.signature, issuedAt: BigInt(r.issued_at), nonce: r.nonce },
  };
}
