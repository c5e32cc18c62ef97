import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Hex, RecoverTypedDataAddressParameters } from "viem";

interface Pending {
  resolve: (address: Hex) => void;
  reject: (err: Error) => void;
}

/**
 * Signer recovery (secp256k1 public key recovery and keccak hashing, about a
 * millisecond of CPU each) on worker threads, so that signature checks run
 * beside the event loop instead of stalling every other request.
 */
export class SignerRecoveryPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private readonly load: number[];
  private nextId = 0;

  constructor(size = Math.max(1, availableParallelism() - 1)) {
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL("./recover-worker.mjs", import.meta.url));
      worker.unref(); // never what keeps a process alive
      worker.on("message", (m: { id: number; address?: Hex; error?: string }) => this.settle(m));
      worker.on("error", (err) => this.failAll(err));
      return worker;
    });
    this.load = this.workers.map(() => 0);
  }

  recover(params: RecoverTypedDataAddressParameters): Promise<Hex> {
    const index = this.load.indexOf(Math.min(...this.load));
    const id = this.nextId++;
    this.load[index]! += 1;
    return new Promise<Hex>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (a) => {
          this.load[index]! -= 1;
          resolve(a);
        },
        reject: (e) => {
          this.load[index]! -= 1;
          reject(e);
        },
      });
      this.workers[index]!.postMessage({ id, params });
    });
  }

  async close(): Promise<void> {
    this.failAll(new Error("signer recovery pool closed"));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private settle(m: { id: number; address?: Hex; error?: string }): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.address) p.resolve(m.address);
    else p.reject(new Error(m.error ?? "recovery failed"));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
