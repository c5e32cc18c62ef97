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
  /** Each worker, with how many recoveries it has in hand. */
  private readonly slots: { worker: Worker; load: number }[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(size = Math.max(1, availableParallelism() - 1)) {
    this.slots = Array.from({ length: size }, () => {
      const worker = new Worker(new URL("./recover-worker.mjs", import.meta.url));
      worker.unref(); // never what keeps a process alive
      worker.on("message", (m: { id: number; address?: Hex; error?: string }) => this.settle(m));
      worker.on("error", (err) => this.failAll(err));
      return { worker, load: 0 };
    });
  }

  recover(params: RecoverTypedDataAddressParameters): Promise<Hex> {
    // The least loaded worker (the first of them on a tie).
    const slot = this.slots.reduce((best, s) => (s.load < best.load ? s : best));
    const id = this.nextId++;
    slot.load += 1;
    return new Promise<Hex>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (a) => {
          slot.load -= 1;
          resolve(a);
        },
        reject: (e) => {
          slot.load -= 1;
          reject(e);
        },
      });
      slot.worker.postMessage({ id, params });
    });
  }

  async close(): Promise<void> {
    this.failAll(new Error("signer recovery pool closed"));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
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
