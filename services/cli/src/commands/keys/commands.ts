// The key and session commands (keygen, whoami, login, logout) and `sign`,
// the signature object of a request made by hand (docs/cli.md, "By hand").
import { resolve } from "node:path";
import { HttpError } from "../../core/errors.js";
import { login, request, type Context, type LoginResult } from "../../core/http.js";
import { clearSession, convosWalletKey, createKey, loadKey, readSession, type Identity } from "../../core/key-store.js";
import {
  parseClaimSignFields,
  parseOperation,
  parseSignFields,
  signRest,
  type SignatureJson,
} from "../../core/signing.js";

export async function keygen(
  ctx: Context,
  opts: { force?: boolean | undefined; fromConvos?: string | undefined; conversation?: string | undefined } = {},
): Promise<Identity> {
  return createKey(ctx.keyFile, {
    force: opts.force,
    ...(opts.fromConvos
      ? { privateKey: await convosWalletKey(resolve(ctx.cwd, opts.fromConvos), opts.conversation) }
      : {}),
  });
}

export async function whoami(ctx: Context): Promise<Identity> {
  const { address, inbox_id } = await loadKey(ctx.keyFile);
  return { address, inbox_id };
}

export async function loginCommand(ctx: Context): Promise<LoginResult> {
  return (await login(ctx)).result;
}

/**
 * Signs out: the stored session is ended on the server (DELETE
 * /api/pool/sessions), then deleted here. A session the server no longer
 * knows (401: ended or expired) is deleted all the same.
 */
export async function logout(ctx: Context): Promise<unknown> {
  const stored = await readSession(ctx.keyFile);
  if (!stored) return { signed_out: false, message: "no stored session: nothing to sign out of" };
  try {
    if (stored.url === ctx.url) await request(ctx, "DELETE", "/api/pool/sessions", { token: stored.token });
  } catch (err) {
    if (!(err instanceof HttpError && err.status === 401)) throw err;
  }
  await clearSession(ctx.keyFile);
  return { signed_out: true, inbox_id: stored.inbox_id };
}

/** The `{signature, issued_at, nonce}` object of a hand-made request, as every signed REST body takes it. */
export async function sign(ctx: Context, operation: string, fieldsJson: string): Promise<SignatureJson> {
  const op = parseOperation(operation);
  const key = await loadKey(ctx.keyFile);
  // A claim is signed over hashes of its invite and user config: the claim as it will be sent is easier to give.
  const fields = op === "ClaimAgent" ? parseClaimSignFields(key.inbox_id, fieldsJson) : parseSignFields(op, fieldsJson);
  return signRest(ctx, key, op, fields);
}
