// A local EVM chain for agents' wallets: anvil (Foundry's node, from the npm
// package @foundry-rs/anvil), spoken to over JSON-RPC like any chain. One
// account, the faucet, starts rich; it funds agents' wallets and takes their
// funds back when they are released. With a state file the chain survives a
// restart (anvil dumps its state there every few seconds and on exit).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { freePort, type Logger } from "@convos-pool/kit/server";
import { createPublicClient, http, type Hex } from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";

/**
 * Anvil's development mnemonic: its first account is the faucet, its second
 * stands for an owner's own funded wallet (deposits into agents' wallets).
 * Well known, so for a local chain only.
 */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
export const LOCAL_CHAIN_ID = 31337;

export interface LocalChainOptions {
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** Where the chain's state is kept across restarts; absent: in memory only. */
  stateFile?: string;
  log?: Logger;
}

export interface RunningChain {
  rpcUrl: string;
  chainId: number;
  /** The faucet's key: it funds agents' wallets under an operator's grant and receives what released ones held. */
  faucetKey: Hex;
  /** A second funded account (10,000 ETH), an owner's own wallet in walk-throughs and tests: it deposits into agents' wallets. */
  ownerKey: Hex;
  /** That account's address. */
  ownerAddress: Hex;
  close(): Promise<void>;
}

/** anvil's binary for this platform, from its optional platform package. */
export function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    return join(
      dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)),
      "bin",
      process.platform === "win32" ? "anvil.exe" : "anvil",
    );
  } catch {
    throw new Error(`no anvil binary for ${process.platform}/${process.arch} (${pkg} is not installed)`);
  }
}

/** The private key of an account of the dev mnemonic (an HD key derived from a seed always has one). */
function privateKeyOf(account: HDAccount): Hex {
  const key = account.getHdKey().privateKey;
  if (!key) throw new Error(`the dev mnemonic's account ${account.address} has no private key`);
  return `0x${Buffer.from(key).toString("hex")}`;
}

export async function startLocalChain(opts: LocalChainOptions = {}): Promise<RunningChain> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port || (await freePort(host));
  // Another chain on the port (an anvil left by an earlier run) would answer for ours.
  if (opts.port && !(await portFree(host, port))) {
    throw new Error(
      `port ${port} is taken (an anvil left by an earlier run? \`pkill -f "anvil --host ${host} --port ${port}"\`)`,
    );
  }
  const args = [
    "--host",
    host,
    "--port",
    String(port),
    "--chain-id",
    String(LOCAL_CHAIN_ID),
    "--accounts",
    "2",
    "--mnemonic",
    DEV_MNEMONIC,
  ];
  if (opts.stateFile) {
    await mkdir(dirname(opts.stateFile), { recursive: true, mode: 0o700 });
    args.push("--state", opts.stateFile, "--state-interval", "2");
  }
  const child = spawn(anvilBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    output.splice(0, Math.max(0, output.length - 50));
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Not left behind by a process that exits without closing it.
  const orphaned = () => child.kill("SIGKILL");
  process.once("exit", orphaned);
  void exited.then(() => process.off("exit", orphaned));

  const rpcUrl = `http://${host}:${port}`;
  try {
    await untilReady(rpcUrl, child);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`anvil did not start: ${(err as Error).message}\n${output.join("\n")}`);
  }
  opts.log?.info("local chain up", { rpcUrl, chainId: LOCAL_CHAIN_ID, state: opts.stateFile ?? "in memory" });
  const faucet = mnemonicToAccount(DEV_MNEMONIC);
  const owner = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 1 });
  return {
    rpcUrl,
    chainId: LOCAL_CHAIN_ID,
    faucetKey: privateKeyOf(faucet),
    ownerKey: privateKeyOf(owner),
    ownerAddress: owner.address,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM: anvil writes its state file before it exits.
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Whether nothing listens on host:port. */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

async function untilReady(rpcUrl: string, child: ChildProcess, ms = 60_000): Promise<void> {
  // A loaded machine answers slowly: each try waits up to 5 s, the whole up to a minute.
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: 5_000 }) });
  const end = Date.now() + ms;
  let last = "no try yet";
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`it exited (${child.exitCode ?? child.signalCode})`);
    try {
      const chainId = await client.getChainId();
      if (chainId === LOCAL_CHAIN_ID) return;
      // Another chain on the port would answer for ours.
      last = `chain id ${chainId} answered, not ${LOCAL_CHAIN_ID}`;
    } catch (err) {
      [last = "an error"] = (err as Error).message.split("\n");
    }
    if (Date.now() > end) throw new Error(`no answer on ${rpcUrl} within ${ms} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
