// The creator's local key and the session token beside it. Both files are
// created with mode 0600 in a 0700 directory; neither secret is ever printed.
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
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

interface ConvosIdentityJson {
  walletKey?: unknown;
  inboxId?: unknown;
  conversationId?: unknown;
}

async function readIdentity(file: string): Promise<ConvosIdentityJson | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as ConvosIdentityJson;
  } catch {
    throw new CliError(`${file}: not a Convos CLI identity (invalid JSON)`);
  }
}

/** The per-conversation identities of a Convos home of older CLIs (`identities/*.json`), by file. */
async function conversationIdentities(home: string): Promise<[string, ConvosIdentityJson][]> {
  const dir = join(home, "identities");
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".json")).sort();
  } catch {
    return [];
  }
  const out: [string, ConvosIdentityJson][] = [];
  for (const n of names) {
    const id = await readIdentity(join(dir, n));
    if (id) out.push([join(dir, n), id]);
  }
  return out;
}

/**
 * The wallet key of the Convos identity that is the person in a
 * conversation, from the Convos CLI's `--home`, so that they sign as
 * themself: the owner who answers their agent there. Today's CLI keeps one
 * identity for all its conversations (`identity.json`); older ones kept one
 * per conversation (`identities/*.json`, each naming its `conversationId`),
 * and `conversation` picks among those. An identity whose recorded inbox is
 * not the one its key creates is refused: the key would sign as someone else.
 */
export async function convosWalletKey(home: string, conversation?: string): Promise<Hex> {
  const single = join(home, "identity.json");
  const perConversation = await conversationIdentities(home);
  const matching =
    conversation === undefined ? perConversation : perConversation.filter(([, i]) => i.conversationId === conversation);
  let file: string;
  let identity: ConvosIdentityJson | undefined;
  if (matching.length === 1 && (conversation !== undefined || !(await readIdentity(single)))) {
    [[file, identity]] = matching as [[string, ConvosIdentityJson]];
  } else if (matching.length > 1) {
    throw new CliError(
      `${home}: holds an identity per conversation (${matching.length}); pick one with --conversation ID`,
    );
  } else {
    file = single;
    identity = await readIdentity(single);
    if (!identity) {
      throw new CliError(
        conversation !== undefined && perConversation.length > 0
          ? `${home}: no identity of conversation ${conversation} there`
          : `${single}: no Convos CLI identity there (give the directory passed to convos as --home)`,
      );
    }
  }
  if (typeof identity.walletKey !== "string" || !PRIVATE_KEY.test(identity.walletKey))
    throw new CliError(`${file}: no walletKey of 32 bytes hex`);
  const key = identity.walletKey as Hex;
  if (typeof identity.inboxId === "string" && identity.inboxId !== identityOf(privateKeyToAccount(key)).inbox_id)
    throw new CliError(
      `${file}: its inbox ${identity.inboxId} is not the one its key creates, so the pool could not tell it is you`,
    );
  return key;
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
