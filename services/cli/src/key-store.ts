// The creator's local key and the session token beside it. Both files are
// created with mode 0600 in a 0700 directory; neither secret is ever printed.
import { chmod, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { deriveInboxId } from "@convos-pool/kit/signing";
import type { Hex, PrivateKeyAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { CliError } from "./errors.js";

export const DEFAULT_KEY_FILE = ".data/cli/key.json";

const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;

/** What `keygen` and `whoami` print: public facts only. */
export interface Identity {
  address: Hex;
  /** The XMTP inbox the key creates (inbox nonce 1): the creator id on the pool. */
  inbox_id: string;
}

export interface LoadedKey extends Identity {
  account: PrivateKeyAccount;
}

interface KeyFileJson {
  address: Hex;
  private_key: Hex;
  created_at: string;
}

export interface StoredSession {
  /** The server the token is for. */
  url: string;
  inbox_id: string;
  token: string;
  /** As the server sent it (RFC 3339), or absent when unknown. */
  expires_at?: string;
}

function identityOf(account: PrivateKeyAccount): Identity {
  return { address: account.address, inbox_id: deriveInboxId(account.address) };
}

/** Writes a private file: 0600, created exclusively unless `replace`, then renamed into place when replacing. */
async function writePrivate(path: string, data: string, replace: boolean): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  if (!replace) {
    const fh = await open(path, "wx", 0o600);
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    await chmod(path, 0o600);
    return;
  }
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(tmp, "wx", 0o600);
  try {
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The wallet key of a Convos CLI identity (`identity.json` in its `--home`),
 * so that the person in a conversation signs as themself: the owner who
 * answers their agent there.
 */
export async function convosWalletKey(home: string): Promise<Hex> {
  const file = join(home, "identity.json");
  let parsed: { walletKey?: unknown };
  try {
    parsed = JSON.parse(await readFile(file, "utf8")) as { walletKey?: unknown };
  } catch {
    throw new CliError(`${file}: no Convos CLI identity there (give the directory passed to convos as --home)`);
  }
  if (typeof parsed.walletKey !== "string" || !PRIVATE_KEY.test(parsed.walletKey))
    throw new CliError(`${file}: no walletKey of 32 bytes hex`);
  return parsed.walletKey as Hex;
}

/** Creates a key in `file` (a new one, or `privateKey`); an existing key file is kept unless `force`. */
export async function createKey(
  file: string,
  opts: { force?: boolean | undefined; privateKey?: Hex | undefined } = {},
): Promise<Identity> {
  const path = resolve(file);
  if (!opts.force && (await exists(path))) {
    throw new CliError(`${file}: a key already exists; use --force to replace it (the old key is lost)`);
  }
  const privateKey = opts.privateKey ?? generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  const body: KeyFileJson = { address: account.address, private_key: privateKey, created_at: new Date().toISOString() };
  try {
    await writePrivate(path, `${JSON.stringify(body, null, 2)}\n`, opts.force === true);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CliError(`${file}: a key already exists; use --force to replace it (the old key is lost)`);
    }
    throw err;
  }
  // A session belongs to the old key.
  await rm(sessionFileFor(path), { force: true });
  return identityOf(account);
}

export async function loadKey(file: string): Promise<LoadedKey> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CliError(`${file}: no key; create one with \`pool keygen\` (or point --key / POOL_KEY_FILE at yours)`);
    }
    throw new CliError(`${file}: cannot read the key: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let parsed: Partial<KeyFileJson>;
  try {
    parsed = JSON.parse(text) as Partial<KeyFileJson>;
  } catch {
    throw new CliError(`${file}: not a key file (invalid JSON)`);
  }
  if (typeof parsed.private_key !== "string" || !PRIVATE_KEY.test(parsed.private_key)) {
    throw new CliError(`${file}: not a key file (no private_key of 32 bytes hex)`);
  }
  const account = privateKeyToAccount(parsed.private_key);
  return { ...identityOf(account), account };
}

/** `.data/cli/key.json` → `.data/cli/key.session.json`. */
export function sessionFileFor(keyFile: string): string {
  const path = resolve(keyFile);
  const ext = extname(path);
  const stem = ext === ".json" ? basename(path, ext) : basename(path);
  return join(dirname(path), `${stem}.session.json`);
}

export async function readSession(keyFile: string): Promise<StoredSession | undefined> {
  try {
    const s = JSON.parse(await readFile(sessionFileFor(keyFile), "utf8")) as Partial<StoredSession>;
    if (typeof s.token !== "string" || typeof s.url !== "string" || typeof s.inbox_id !== "string") return undefined;
    return {
      url: s.url,
      inbox_id: s.inbox_id,
      token: s.token,
      ...(typeof s.expires_at === "string" ? { expires_at: s.expires_at } : {}),
    };
  } catch {
    return undefined;
  }
}

export async function writeSession(keyFile: string, session: StoredSession): Promise<void> {
  await writePrivate(sessionFileFor(keyFile), `${JSON.stringify(session, null, 2)}\n`, true);
}

export async function clearSession(keyFile: string): Promise<void> {
  await rm(sessionFileFor(keyFile), { force: true });
}

/** Whether a stored session is for this server and inbox and still valid `marginMs` from now. */
export function sessionUsable(
  s: StoredSession | undefined,
  url: string,
  inboxId: string,
  nowMs: number,
  marginMs = 30_000,
): s is StoredSession {
  if (!s || s.url !== url || s.inbox_id !== inboxId) return false;
  if (s.expires_at === undefined) return true; // unknown: use it until the server refuses it
  const t = Date.parse(s.expires_at);
  return Number.isNaN(t) || t - marginMs > nowMs;
}
