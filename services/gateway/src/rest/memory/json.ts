// What the memory paths answer (docs/rest.md, "Agent memory"): the agent's
// memory sealed to the caller's key, its counts by kind, and the agent's
// memory key, each typed once for the gateway and its clients.

import type { MemoryCounts } from "@convos-pool/gen/convos/pool/v1/memory_pb.js";
import type { SealedJson } from "../core/sealed-json.js";

/** How many entries of each kind. */
export interface MemoryCountsJson {
  training: number;
  personalization: number;
  credentials: number;
  feedback: number;
  adopted: number;
}

export const countsToJson = (c: MemoryCounts | undefined): MemoryCountsJson => ({
  training: c?.training ?? 0,
  personalization: c?.personalization ?? 0,
  credentials: c?.credentials ?? 0,
  feedback: c?.feedback ?? 0,
  adopted: c?.adopted ?? 0,
});

/** POST /api/pool/agents/{id}/memory/export: the agent-memory file sealed to `recipient_key`. */
export interface MemoryExportJson {
  sealed: SealedJson;
  counts: MemoryCountsJson;
  secrets_stripped: number;
}

/** POST /api/pool/agents/{id}/memory/list: the entries sealed to `recipient_key`. */
export interface MemoryListJson {
  sealed: SealedJson;
  counts: MemoryCountsJson;
}

/** GET /api/pool/agents/{id}/memory/key: the key to seal memory (and the address book) to, signed by the agent. */
export interface MemoryKeyJson {
  key: { public_key: string; agent_address: string; key_signature: string };
  inbox_id: string;
}
