// Signatures in the REST form of docs/rest.md, `{signature, issued_at,
// nonce}`, made with the local key over the kit's EIP-712 types
// (services/kit/src/signing/).
import {
  OPTIONAL_SIGNED_FIELDS,
  SIGNED_TYPES,
  claimFields,
  isPoolId,
  signOperation,
  signatureDomain,
  type OperationFields,
  type SignedOperation,
} from "@convos-pool/kit/signing";
import type { Hex, LocalAccount } from "viem";
import { nowSeconds, type Context } from "./context.js";
import { CliError, NetworkError, unreachable, UsageError } from "./errors.js";

/** `"signature": {...}` of every signed REST request. */
export interface SignatureJson {
  signature: Hex;
  issued_at: number;
  nonce: Hex;
}

export interface Signer {
  account: LocalAccount;
  inbox_id: string;
}

/** Pool ids the gateways of this process named, by URL: asked once. */
const poolIds = new Map<string, Promise<string>>();

/**
 * The pool a signature is made for (docs/signatures.md): POOL_ID when set,
 * else what the gateway names (GET /api/pool/signing-domain), checked to be a
 * domain this CLI would build itself.
 */
export function poolIdOf(ctx: Context): Promise<string> {
  if (ctx.poolId !== undefined) {
    if (!isPoolId(ctx.poolId))
      throw new UsageError(`POOL_ID "${ctx.poolId}" is not a pool id (lower-case letters, digits, dashes)`);
    return Promise.resolve(ctx.poolId);
  }
  let id = poolIds.get(ctx.url);
  if (!id) {
    id = askGateway(ctx);
    poolIds.set(ctx.url, id);
    id.catch(() => poolIds.delete(ctx.url));
  }
  return id;
}

async function askGateway(ctx: Context): Promise<string> {
  const url = `${ctx.url}/api/pool/signing-domain`;
  let body: { pool_id?: unknown; name?: unknown; version?: unknown; salt?: unknown };
  try {
    let res: Response;
    try {
      res = await (ctx.fetch ?? fetch)(url);
    } catch (err) {
      // Not reached at all: the pool is not running there, which POOL_ID would not mend.
      throw unreachable(ctx.url, err);
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = (await res.json()) as typeof body;
  } catch (err) {
    if (err instanceof NetworkError) throw err;
    throw new CliError(
      `could not ask ${url} which pool to sign for (${err instanceof Error ? err.message : String(err)}); set POOL_ID to sign without it`,
    );
  }
  const id = typeof body.pool_id === "string" && isPoolId(body.pool_id) ? body.pool_id : undefined;
  const expected = id && signatureDomain(id);
  if (!expected || body.name !== expected.name || body.version !== expected.version || body.salt !== expected.salt) {
    throw new CliError(`${url} names a signing domain this CLI does not build: ${JSON.stringify(body).slice(0, 200)}`);
  }
  return id;
}

/** Signs `operation` for the signer's inbox in the context's pool, issued now by its clock; `fields` are the operation's own fields but inboxId. */
export async function signRest(
  ctx: Context,
  signer: Signer,
  operation: SignedOperation,
  fields: OperationFields,
): Promise<SignatureJson> {
  const s = await signOperation(
    signer.account,
    operation,
    { ...fields, inboxId: signer.inbox_id },
    nowSeconds(ctx),
    await poolIdOf(ctx),
  );
  return { signature: s.signature as Hex, issued_at: Number(s.issuedAt), nonce: s.nonce as Hex };
}

export const OPERATIONS = Object.keys(SIGNED_TYPES) as SignedOperation[];

export function parseOperation(name: string): SignedOperation {
  const op = OPERATIONS.find((o) => o === name);
  if (!op) throw new UsageError(`unknown operation "${name}"; one of ${OPERATIONS.join(", ")}`);
  return op;
}

const ENVELOPE = new Set(["inboxId", "issuedAt", "nonce"]);

/** FIELDS_JSON as a JSON object; a usage error with `hint` otherwise. */
function fieldsObject(text: string, hint: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError(`FIELDS_JSON is not valid JSON; ${hint}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new UsageError(`FIELDS_JSON must be a JSON object; ${hint}`);
  return raw as Record<string, unknown>;
}

/** The fields `pool sign OPERATION` expects, as "name: type"; `optional` ones only when set (kit OPTIONAL_SIGNED_FIELDS). */
export function operationFields(op: SignedOperation): { name: string; type: string; optional?: true }[] {
  return [
    ...SIGNED_TYPES[op].filter((f) => !ENVELOPE.has(f.name)).map((f) => ({ name: f.name, type: f.type })),
    ...(OPTIONAL_SIGNED_FIELDS[op] ?? []).map((f) => ({ name: f.name, type: f.type, optional: true as const })),
  ];
}

/**
 * Parses FIELDS_JSON of `pool sign`: exactly the operation's fields other
 * than inboxId (from the key), issuedAt and nonce (made at signing).
 * uint64 and uint256 fields take a JSON number or a decimal string (wei
 * beyond 2^53 only as a string); uint8 a JSON number.
 */
export function parseSignFields(op: SignedOperation, text: string): OperationFields {
  const expected = operationFields(op);
  const hint = `${op} takes ${JSON.stringify(Object.fromEntries(expected.map((f) => [f.name, f.type])))}`;
  const obj = fieldsObject(text, hint);
  for (const k of Object.keys(obj)) {
    if (ENVELOPE.has(k))
      throw new UsageError(`FIELDS_JSON: ${k} is not given: it comes from the key (inboxId) or is made at signing`);
    if (!expected.some((f) => f.name === k)) throw new UsageError(`FIELDS_JSON: unknown field ${k}; ${hint}`);
  }
  const out: OperationFields = {};
  for (const { name, type, optional } of expected) {
    const v = obj[name];
    if (v === undefined && optional) continue;
    if (v === undefined) throw new UsageError(`FIELDS_JSON: ${name} is missing; ${hint}`);
    if (type === "string") {
      if (typeof v !== "string") throw new UsageError(`FIELDS_JSON: ${name} must be a string`);
      out[name] = v;
    } else if (type === "uint8") {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 255)
        throw new UsageError(`FIELDS_JSON: ${name} must be a whole number, 0 to 255`);
      out[name] = v;
    } else if (type === "uint64" || type === "uint256") {
      const ok =
        (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) || (typeof v === "string" && /^[0-9]+$/.test(v));
      if (!ok) throw new UsageError(`FIELDS_JSON: ${name} must be a whole number`);
      out[name] = BigInt(v);
    } else if (type === "bool") {
      if (typeof v !== "boolean") throw new UsageError(`FIELDS_JSON: ${name} must be true or false`);
      out[name] = v;
    } else if (type === "bytes32") {
      if (typeof v !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(v))
        throw new UsageError(`FIELDS_JSON: ${name} must be 0x followed by 64 hex digits`);
      out[name] = v;
    } else {
      throw new UsageError(`FIELDS_JSON: ${name} has an unsupported type ${type}`);
    }
  }
  return out;
}

/**
 * FIELDS_JSON of `pool sign ClaimAgent`: the claim as it will be sent
 * (`{template_id, conversation_invite, model?, user_config?}`, the REST
 * body's names), hashed here into the signed fields the way the claims
 * service rebuilds them.
 */
export function parseClaimSignFields(requester: string, text: string): OperationFields {
  const hint =
    'ClaimAgent takes the claim: {"template_id": "tmpl_…", "conversation_invite": "…", "model"?: "…", "user_config"?: {"tool-id": "value"}, "confirm_second_agent"?: true}';
  const obj = fieldsObject(text, hint);
  for (const k of Object.keys(obj)) {
    if (!["template_id", "conversation_invite", "model", "user_config", "confirm_second_agent"].includes(k))
      throw new UsageError(`FIELDS_JSON: unknown field ${k}; ${hint}`);
  }
  const str = (k: string, optional = false) => {
    const v = obj[k] ?? (optional ? "" : undefined);
    if (typeof v !== "string") throw new UsageError(`FIELDS_JSON: ${k} must be a string; ${hint}`);
    return v;
  };
  const userConfig = obj.user_config ?? {};
  if (
    typeof userConfig !== "object" ||
    userConfig === null ||
    Array.isArray(userConfig) ||
    Object.values(userConfig).some((v) => typeof v !== "string")
  ) {
    throw new UsageError(`FIELDS_JSON: user_config must be an object of strings; ${hint}`);
  }
  const { inboxId: _requester, ...fields } = claimFields({
    requester,
    templateId: str("template_id"),
    conversationInvite: str("conversation_invite"),
    model: str("model", true),
    userConfig: userConfig as Record<string, string>,
    confirmSecondAgent: obj.confirm_second_agent === true,
  });
  return fields;
}
