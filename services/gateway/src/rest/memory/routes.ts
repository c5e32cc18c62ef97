// The REST paths of an owner's control over their agent's memory (docs/rest.md,
// "Agent memory"; docs/memory.md): export, the agent's memory key, import,
// list, forget, sharing entries across the agent's conversations, and pattern
// sharing. Each is an AgentMemoryService RPC on the claims service, as on the
// Connect face; bytes travel as base64 strings, and sealed boxes pass through
// as they are.

import type { MemoryForwarder } from "../../connect/forward.js";
import { AGENT_ERRORS, Violations, badRequest, type RestErrorMapping } from "../core/errors.js";
import type { JsonObject } from "../core/json.js";
import { forwarderOf, query, type Handler, type RestRequest, type RestResponse, type Route } from "../core/request.js";
import { b64, bytesOf, sealedOf, sealedToJson } from "../core/sealed-json.js";
import { signatureOf } from "../core/signature-json.js";
import { countsToJson, type MemoryExportJson, type MemoryKeyJson, type MemoryListJson } from "./json.js";

/** One memory call: the body read, the RPC made, its answer. */
function memoryRoute(
  fields: readonly string[],
  run: (memory: MemoryForwarder, r: RestRequest, body: JsonObject) => Promise<unknown>,
): Handler {
  return async (r, deps): Promise<RestResponse> => {
    const memory = forwarderOf(deps, "memory");
    query(r, []);
    const body = await r.body(fields);
    return { status: 200, body: await run(memory, r, body) };
  };
}

const ownerSignature = (body: JsonObject) => signatureOf(body, "owner_signature");

const exportMemory = memoryRoute(["recipient_key", "owner_signature"], async (memory, r, body) => {
  const res = await memory.exportMemory(
    { instanceId: r.id, recipientKey: bytesOf(body, "recipient_key"), ownerSignature: ownerSignature(body) },
    r.call,
  );
  const answer: MemoryExportJson = {
    sealed: sealedToJson(res.sealed),
    counts: countsToJson(res.counts),
    secrets_stripped: res.secretsStripped,
  };
  return answer;
});

const memoryKey: Handler = async (r, deps) => {
  const memory = forwarderOf(deps, "memory");
  query(r, []);
  const res = await memory.getMemoryKey({ instanceId: r.id }, r.call);
  const body: MemoryKeyJson = {
    key: {
      public_key: b64(res.key?.publicKey),
      agent_address: res.key?.agentAddress ?? "",
      key_signature: res.key?.keySignature ?? "",
    },
    inbox_id: res.inboxId,
  };
  return { status: 200, body };
};

const importMemory = memoryRoute(["sealed", "owner_signature"], async (memory, r, body) => {
  const box = sealedOf(body, "sealed");
  const res = await memory.importMemory(
    { instanceId: r.id, sealed: box, ownerSignature: ownerSignature(body) },
    r.call,
  );
  return {
    added: countsToJson(res.added),
    duplicates: res.duplicates,
    skipped: res.skipped,
    secrets_missing: res.secretsMissing,
  };
});

const listMemory = memoryRoute(["recipient_key", "feedback_only", "owner_signature"], async (memory, r, body) => {
  const res = await memory.listMemory(
    {
      instanceId: r.id,
      recipientKey: bytesOf(body, "recipient_key"),
      feedbackOnly: body.boolean("feedback_only", false),
      ownerSignature: ownerSignature(body),
    },
    r.call,
  );
  const answer: MemoryListJson = { sealed: sealedToJson(res.sealed), counts: countsToJson(res.counts) };
  return answer;
});

const forgetMemory = memoryRoute(["entry_ids", "owner_signature"], async (memory, r, body) => {
  const entryIds = body.strings("entry_ids");
  if (!entryIds) throw badRequest("entry_ids", "is required: the ids of the entries to forget");
  const res = await memory.forgetMemory({ instanceId: r.id, entryIds, ownerSignature: ownerSignature(body) }, r.call);
  return { forgotten: res.forgotten, not_found: res.notFound };
});

/** Marks entries known in all the agent's conversations (`share: true`), or back in the one each came from. */
const shareMemory = memoryRoute(["entry_ids", "share", "owner_signature"], async (memory, r, body) => {
  // Both read before either is refused: a request missing both is told of both.
  const check = new Violations();
  const entryIds = check.read(() => body.strings("entry_ids"));
  if (!entryIds)
    check.add({ field: "entry_ids", description: "is required: the ids of the entries to share or unshare" });
  const share = check.read(() => body.boolean("share"));
  check.done();
  const res = await memory.shareMemory(
    { instanceId: r.id, entryIds: entryIds ?? [], share: share === true, ownerSignature: ownerSignature(body) },
    r.call,
  );
  return { changed: res.changed, not_found: res.notFound };
});

const setPatternSharing = memoryRoute(["offer", "adopt", "owner_signature"], async (memory, r, body) => {
  // Each is a yes said in words (docs/rest.md): both read, and both named when left out.
  const check = new Violations();
  const [offer, adopt] = [check.read(() => body.boolean("offer")), check.read(() => body.boolean("adopt"))];
  check.done();
  const sharing = { offer: offer === true, adopt: adopt === true };
  const res = await memory.setPatternSharing(
    { instanceId: r.id, sharing, ownerSignature: ownerSignature(body) },
    r.call,
  );
  return { offer: res.sharing?.offer ?? false, adopt: res.sharing?.adopt ?? false };
});

/** The body is the RPC's `sharing` at its top: `sharing.offer` is `offer`. */
const SHARING_ERRORS: RestErrorMapping = {
  field: (rpcField, sent) => AGENT_ERRORS.field(rpcField.replace(/^sharing\./, ""), sent),
};

export const MEMORY_ROUTES: Route[] = [
  ["POST", "/agents/:id/memory/export", exportMemory, AGENT_ERRORS],
  ["GET", "/agents/:id/memory/key", memoryKey, AGENT_ERRORS],
  ["POST", "/agents/:id/memory/import", importMemory, AGENT_ERRORS],
  ["POST", "/agents/:id/memory/list", listMemory, AGENT_ERRORS],
  ["POST", "/agents/:id/memory/forget", forgetMemory, AGENT_ERRORS],
  ["POST", "/agents/:id/memory/share", shareMemory, AGENT_ERRORS],
  ["PUT", "/agents/:id/pattern-sharing", setPatternSharing, SHARING_ERRORS],
];
