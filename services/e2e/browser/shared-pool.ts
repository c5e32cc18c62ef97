// What a browser test file reads of the tier's one pool (shared-pool.setup.ts
// starts it): its addresses, the store's operator, and the SMS stand-in's
// phones through the set-up's server. A file makes its own keys, templates,
// owners and conversations in it.
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { inject } from "vitest";
import { deriveInboxId } from "@convos-pool/kit/signing";
import type { TestIdentity } from "@convos-pool/kit/testing";
import type { LocalPhone, LocalText } from "@convos-pool/local-providers";
import { WARM_AGENTS, startBrowserPool, type SharedPoolAddresses } from "./browser-pool.js";

export type { SharedPoolAddresses };

declare module "vitest" {
  export interface ProvidedContext {
    /**
     * The set-up's server (the pool's addresses once it is up, and the phones), empty where each file starts its
     * own pool; and the store's operator's key.
     */
    sharedPool: { controlUrl: string; operatorKey: Hex };
  }
}

/** A phone outside the pool, read from this file's process: what it received, as it arrives. */
export type RemotePhone = Pick<LocalPhone, "number" | "messages" | "waitForMessage">;

/**
 * The tier's pool as a file uses it: its addresses, the store's operator, and
 * `sms.phone(number)` as the pool's own stand-in gives it. `close()` hangs up
 * this file's phones; the pool itself stays up for the other files.
 */
export interface SharedPool extends SharedPoolAddresses {
  operator: TestIdentity;
  sms: { phone(number: string): RemotePhone };
  close(): Promise<void>;
}

/** The store's one operator (POOL_OPERATORS of the tier's pool), known before the pool is up. */
export function poolOperator(): TestIdentity {
  const account = privateKeyToAccount(inject("sharedPool").operatorKey);
  return { account, inboxId: deriveInboxId(account.address) };
}

/**
 * The tier's pool, once it is up (it starts beside the first files: a file's
 * beforeAll may wait for it); where the set-up started none (no network
 * namespaces), a pool of this file's own, which `close()` stops.
 */
export async function sharedPool(): Promise<SharedPool> {
  const { controlUrl, operatorKey } = inject("sharedPool");
  if (controlUrl) return openSharedPool(controlUrl, poolOperator());
  const own = await startBrowserPool(operatorKey, WARM_AGENTS.file);
  return { ...own.addresses, operator: poolOperator(), sms: own.sms, close: () => own.close() };
}

export async function openSharedPool(controlUrl: string, operator: TestIdentity): Promise<SharedPool> {
  const res = await fetch(`${controlUrl}/pool`);
  if (!res.ok) throw new Error(await res.text());
  const addresses = (await res.json()) as SharedPoolAddresses;
  const hangUp = new AbortController();
  return {
    ...addresses,
    operator,
    sms: { phone: (number) => remotePhone(controlUrl, number, hangUp.signal) },
    close: async () => hangUp.abort(),
  };
}

/**
 * Reads the phone's texts from the relay as they come (one JSON line each),
 * so that `messages()` answers at once as the stand-in's own phone does. What
 * it cannot see: a text the relay has not yet passed on when asked.
 */
export function remotePhone(controlUrl: string, number: string, hangUp: AbortSignal): RemotePhone {
  const texts: LocalText[] = [];
  const waiting = new Set<() => void>();
  let failed: Error | undefined;
  const arrived = () => {
    for (const wake of waiting) wake();
  };
  void (async () => {
    const res = await fetch(`${controlUrl}/phones/${encodeURIComponent(number)}`, { signal: hangUp });
    if (!res.ok || !res.body) throw new Error(`the phone relay answered ${res.status}: ${await res.text()}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += value;
      const lines = rest.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line) texts.push(JSON.parse(line) as LocalText);
      arrived();
    }
    // The relay keeps the line open while the pool is up: an end is the pool gone, not a quiet phone.
    throw new Error(`the phone relay hung up on ${number}`);
  })().catch((err: unknown) => {
    if (hangUp.aborted) return;
    failed = err instanceof Error ? err : new Error(String(err));
    arrived();
  });
  return {
    number,
    messages: () => [...texts],
    waitForMessage: (pred = () => true, ms = 10_000) =>
      new Promise<LocalText>((resolve, reject) => {
        const check = () => {
          const found = texts.find(pred);
          if (!found && !failed) return;
          waiting.delete(check);
          clearTimeout(timer);
          if (found) resolve(found);
          else if (failed) reject(failed);
        };
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`no text to ${number} within ${ms} ms (received ${texts.length})`));
        }, ms);
        waiting.add(check);
        check();
      }),
  };
}
