// The REST paths of an owner's control over their agent's memory (docs/rest.md,
// "Agent memory"; docs/memory.md): export, the agent's memory key, import,
// list, forget and pattern sharing. Each is an AgentMemoryService RPC on the
// claims service, as on the Connect face; bytes travel as base64 strings, and
// sealed boxes pass through as they are. Fields are camelCase, as on the
// other agent paths.

import { Code } from "@connectrpc/connect";
import type { MemoryCounts, SealedBox } from "@convos-pool/gen/convos/pool/v1/memory_pb.js";
import type { MemoryForwarder } from "../forward.js";
import { claimRestField, ownerSignatureFromBody } from "./claims-json.js";
import { badRequest, RestError, toRestError } from "./errors.js";
import type { JsonObject } from "./json.js";
import { query, type Handler, type RestDeps, type RestRequest, type RestResponse } from "./request.js";

const SEALED_FIELDS = ["ephemeralPublicKey", "nonce", "ciphertext"] as const;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function memoryOf(deps: RestDeps): MemoryForwarder {
  if (!deps.memory) throw new RestError(503, "unavailable", Code.Unavailable, deps.claimsNotConfigured);
  return deps.memory;
}

/** A base64 field (standard alphabet, padded or not), 400 naming it when it is not. */
function bytesOf(body: JsonObject, key: string): Uint8Array {
  const text = body.string(key);
  if (text.length % 4 === 1 || !BASE64.test(text)) throw badRequest(body.field(key), "must be base64");
  return new Uint8Array(Buffer.from(text, "base64"));
}

const b64 = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString("base64");

const sealedToJson = (s: SealedBox | undefined) => ({
  ephemeralPublicKey: b64(s?.ephemeralPublicKey),
  nonce: b64(s?.nonce),
  ciphertext: b64(s?.ciphertext),
});

const countsToJson = (c: MemoryCounts | undefined) => ({
  training: c?.training ?? 0,
  personalization: c?.personalization ?? 0,
  credentials: c?.credentials ?? 0,
  feedback: c?.feedback ?? 0,
  adopted: c?.adopted ?? 0,
});

/** One memory call: the body read, the RPC made, its errors in the REST fields' names. */
function memoryRoute(
  fields: readonly string[],
  run: (memory: MemoryForwarder, r: RestRequest, body: JsonObject) => Promise<unknown>,
): Handler {
  return async (r, deps): Promise<RestResponse> => {
    const memory = memoryOf(deps);
    query(r, []);
    const body = await r.body(fields);
    try {
      return { status: 200, body: await run(memory, r, body) };
    } catch (err) {
      throw toRestError(err, { field: claimRestField() });
    }
  };
}

const exportMemory = memoryRoute(["recipientKey", "ownerSignature"], async (memory, r, body) => {
  const res = await memory.exportMemory(
    { instanceId: r.id, recipientKey: bytesOf(body, "recipientKey"), ownerSignature: ownerSignatureFromBody(body) },
    r.call,
  );
  return { sealed: sealedToJson(res.sealed), counts: countsToJson(res.counts), secretsStripped: res.secretsStripped };
});

const memoryKey: Handler = async (r, deps) => {
  const memory = memoryOf(deps);
  query(r, []);
  try {
    const res = await memory.getMemoryKey({ instanceId: r.id }, r.call);
    return {
      status: 200,
      body: {
        key: {
          publicKey: b64(res.key?.publicKey),
          agentAddress: res.key?.agentAddress ?? "",
          keySignature: res.key?.keySignature ?? "",
        },
        inboxId: res.inboxId,
      },
    };
  } catch (err) {
    throw toRestError(err, { field: claimRestField() });
  }
};

const importMemory = memoryRoute(["sealed", "ownerSignature"], async (memory, r, body) => {
  const sealed = body.object("sealed", SEALED_FIELDS);
  if (!sealed) throw badRequest("sealed", "is required: the agent-memory file sealed to the agent's memory key");
  const box = {
    ephemeralPublicKey: bytesOf(sealed, "ephemeralPublicKey"),
    nonce: bytesOf(sealed, "nonce"),
    ciphertext: bytesOf(sealed, "ciphertext"),
  };
  const res = await memory.importMemory(
    { instanceId: r.id, sealed: box, ownerSignature: ownerSignatureFromBody(body) },
    r.call,
  );
  return {
    added: countsToJson(res.added),
    duplicates: res.duplicates,
    skipped: res.skipped,
    secretsMissing: res.secretsMissing,
  };
});

const listMemory = memoryRoute(["recipientKey", "feedbackOnly", "ownerSignature"], async (memory, r, body) => {
  const res = await memory.listMemory(
    {
      instanceId: r.id,
      recipientKey: bytesOf(body, "recipientKey"),
      feedbackOnly: body.boolean("feedbackOnly", false),
      ownerSignature: ownerSignatureFromBody(body),
    },
    r.call,
  );
  return { sealed: sealedToJson(res.sealed), counts: countsToJson(res.counts) };
});

const forgetMemory = memoryRoute(["entryIds", "ownerSignature"], async (memory, r, body) => {
  const entryIds = body.strings("entryIds");
  if (!entryIds) throw badRequest("entryIds", "is required: the ids of the entries to forget");
  const res = await memory.forgetMemory(
    { instanceId: r.id, entryIds, ownerSignature: ownerSignatureFromBody(body) },
    r.call,
  );
  return { forgotten: res.forgotten, notFound: res.notFound };
});

const setPatternSharing = memoryRoute(["offer", "adopt", "ownerSignature"], async (memory, r, body) => {
  const sharing = { offer: body.boolean("offer"), adopt: body.boolean("adopt") };
  const res = await memory.setPatternSharing(
    { instanceId: r.id, sharing, ownerSignature: ownerSignatureFromBody(body) },
    r.call,
  );
  return { offer: res.sharing?.offer ?? false, adopt: res.sharing?.adopt ?? false };
});

export const MEMORY_ROUTES: Array<[method: string, pattern: string, handler: Handler]> = [
  ["POST", "/agents/:id/memory/export", exportMemory],
  ["GET", "/agents/:id/memory/key", memoryKey],
  ["POST", "/agents/:id/memory/import", importMemory],
  ["POST", "/agents/:id/memory/list", listMemory],
  ["POST", "/agents/:id/memory/forget", forgetMemory],
  ["PUT", "/agents/:id/pattern-sharing", setPatternSharing],
];
