// Who the person in this browser is: an XMTP identity's wallet, either a key
// kept in this browser (generated here, or imported from the CLI's key file:
// the same JSON) or an injected wallet (EIP-1193, window.ethereum). Every
// signature is made here; the key never leaves the page.
import { deriveInboxId, type MessageSigner, type TypedDataSigner } from "@convos-pool/kit/browser";
import { FieldError } from "../ui/errors";
import { createWalletClient, custom, type EIP1193Provider, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

export interface Wallet {
  kind: "local" | "injected";
  address: Hex;
  /** The XMTP inbox the wallet creates (inbox nonce 1, as the CLI's): who this person is to the pool. */
  inboxId: string;
  /** Operations as EIP-712 typed data; a sign-in as an EIP-4361 message. */
  signer: TypedDataSigner & MessageSigner;
}

/** The CLI's key file (`pool keygen`, .data/cli/key.json): import and export use it as is. */
export interface KeyFile {
  address: Hex;
  private_key: Hex;
  created_at: string;
}

const KEY_ITEM = "convos-pool/key";
const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;

/** What is wrong with a key file: said by the key field of the sign-in page. */
export class KeyFileError extends FieldError {
  constructor(message: string) {
    super("key", message);
  }
}

function localWallet(file: KeyFile): Wallet {
  const account = privateKeyToAccount(file.private_key);
  return { kind: "local", address: account.address, inboxId: deriveInboxId(account.address), signer: account };
}

/** Reads a key file's text; says what is wrong with it otherwise. */
export function parseKeyFile(text: string): KeyFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new KeyFileError("this is not a key file: it is not JSON");
  }
  const k = raw as Partial<KeyFile> | null;
  if (typeof k !== "object" || k === null || typeof k.private_key !== "string" || !PRIVATE_KEY.test(k.private_key)) {
    throw new KeyFileError(
      'this is not a key file: it needs "private_key", 0x and 64 hex digits (the CLI\'s .data/cli/key.json)',
    );
  }
  const address = privateKeyToAccount(k.private_key).address;
  if (k.address !== undefined && k.address.toLowerCase() !== address.toLowerCase()) {
    throw new KeyFileError("this key file is damaged: its address is not its private key's");
  }
  return {
    address,
    private_key: k.private_key,
    created_at: typeof k.created_at === "string" ? k.created_at : new Date().toISOString(),
  };
}

export function storedWallet(): Wallet | undefined {
  const text = localStorage.getItem(KEY_ITEM);
  if (!text) return undefined;
  try {
    return localWallet(parseKeyFile(text));
  } catch {
    return undefined;
  }
}

/** A new key, kept in this browser. */
export function generateKey(): Wallet {
  const privateKey = generatePrivateKey();
  const address = privateKeyToAccount(privateKey).address;
  return importKey(JSON.stringify({ address, private_key: privateKey, created_at: new Date().toISOString() }));
}

/** Keeps a key file's key in this browser and signs with it from now on. */
export function importKey(text: string): Wallet {
  const file = parseKeyFile(text);
  localStorage.setItem(KEY_ITEM, JSON.stringify(file));
  return localWallet(file);
}

/** The kept key as the CLI's key file, to save (a backup, or `pool` on another machine). */
export function exportKey(): string | undefined {
  const text = localStorage.getItem(KEY_ITEM);
  return text ? `${JSON.stringify(JSON.parse(text), null, 2)}\n` : undefined;
}

export function forgetKey(): void {
  localStorage.removeItem(KEY_ITEM);
}

interface WindowWithWallet {
  ethereum?: EIP1193Provider;
}

export function injectedProvider(): EIP1193Provider | undefined {
  return (window as unknown as WindowWithWallet).ethereum;
}

/** Asks the browser's wallet for an account; it signs with eth_signTypedData_v4, and signs in with personal_sign. */
export async function connectInjected(): Promise<Wallet> {
  const provider = injectedProvider();
  if (!provider) throw new Error("this browser has no wallet (window.ethereum)");
  const [address] = await provider.request({ method: "eth_requestAccounts" });
  if (!address) throw new Error("the wallet gave no account");
  return injectedWallet(provider, address);
}

/** The browser wallet's account when it is still connected (no prompt), else undefined. */
export async function reconnectInjected(): Promise<Wallet | undefined> {
  const provider = injectedProvider();
  if (!provider) return undefined;
  const [address] = ((await provider.request({ method: "eth_accounts" }).catch(() => [])) ?? []) as Hex[];
  return address ? injectedWallet(provider, address) : undefined;
}

function injectedWallet(provider: EIP1193Provider, address: Hex): Wallet {
  const client = createWalletClient({ account: address, transport: custom(provider) });
  return {
    kind: "injected",
    address,
    inboxId: deriveInboxId(address),
    signer: {
      address,
      signTypedData: (typedData) => client.signTypedData({ ...typedData, account: address }),
      // The wallet shows a sign-in message as EIP-4361 and checks its domain against this page.
      signMessage: ({ message }) => client.signMessage({ message, account: address }),
    },
  };
}
