// The host's side of the keys service (services/keys; docs/security.md,
// "Agents' keys"): each agent's wallet key asked for under the host's own
// credential, when the agent first needs it, and held in memory only while
// the host runs the agent (`forget` when it goes). Nothing of it is written
// to disk; the derived keys are the agent's (platform/keys.ts).
//
// The keys service or the claims service behind it may be starting (a whole
// pool started at once) or away for a moment: an unavailable answer is tried
// again until the outage is a window old (one window for all the host's
// agents), then the agent's start fails as a crash, which the host's reviver
// tries again later. A refusal (the agent runs on another
// host) is final and said as the keys service said it.

import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { AgentKeyService } from "@convos-pool/gen/convos/pool/v1/agent_key_service_pb.js";
import { type ClientCredentials, createServiceClient, type Logger } from "@convos-pool/kit/server";
import { bytesToHex, getAddress, type Hex } from "viem";
import { type AgentKeys, InstanceWallet } from "../platform/keys.js";

export interface RemoteKeys extends AgentKeys {
  close(): void;
}

/** Codes worth asking again for: the service is starting, restarting or too busy for a moment. */
const PASSING = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Aborted]);

/** How long the host keeps asking through one outage, and the quiet after which a failure starts a new one. */
export interface Patience {
  windowMs: number;
  /** Longer than one ask and its wait (10 s + 5 s): failures this far apart are not known to be one outage. */
  gapMs: number;
  /** The clock it waits by: the real one, or a test's. */
  clock?: { now(): number; sleep(ms: number): Promise<unknown> };
}

const REAL_CLOCK = { now: () => Date.now(), sleep: (ms: number) => sleep(ms) };

export function remoteKeys(
  url: string,
  credentials: ClientCredentials,
  log: Logger,
  patience: Patience = { windowMs: 60_000, gapMs: 20_000 },
): RemoteKeys {
  const service = createServiceClient(AgentKeyService, url, credentials);
  const client = service.client;
  const held = new Map<string, Promise<InstanceWallet>>();
  const addresses = new Map<number, Hex>();

  // The outage the service is in: the patience is one window of it, not one per agent, so that a host
  // restoring a hundred agents while it is away is not waiting a minute for each. A failure after a
  // quiet gap starts a new outage: an outage nobody asked through since is not known to have lasted.
  let away: { since: number; last: number } | undefined;
  const clock = patience.clock ?? REAL_CLOCK;

  async function patiently<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let wait = 250; ; wait = Math.min(wait * 2, 5_000)) {
      try {
        const answer = await call();
        away = undefined;
        return answer;
      } catch (err) {
        const passing = err instanceof ConnectError && PASSING.has(err.code);
        if (!passing) {
          if (err instanceof ConnectError) away = undefined;
          throw err;
        }
        const now = clock.now();
        if (!away || now - away.last > patience.gapMs) away = { since: now, last: now };
        else away.last = now;
        if (now + wait > away.since + patience.windowMs) {
          // Not a ConnectError: the agent's start crashed (and is tried again), not refused.
          throw new Error(`the keys service did not answer for ${what}: ${err.rawMessage}`, { cause: err });
        }
        log.debug("the keys service is not answering; asking again", { what, code: Code[err.code] });
        await clock.sleep(wait);
      }
    }
  }

  return {
    wallet(instanceId, walletIndex) {
      const kept = held.get(instanceId);
      if (kept) return kept;
      const asked = patiently(`the key of ${instanceId}`, () =>
        client.releaseAgentKey({ instanceId, walletIndex }, { timeoutMs: 10_000 }),
      ).then(({ privateKey, address }) => {
        if (privateKey.length !== 32) throw new Error(`the keys service answered a key of ${privateKey.length} bytes`);
        const wallet = new InstanceWallet(walletIndex, bytesToHex(privateKey));
        if (wallet.address !== getAddress(address))
          throw new Error(`the keys service's key for ${instanceId} is not of the address it named`);
        return wallet;
      });
      held.set(instanceId, asked);
      // A refusal or a failure is not kept: the next start asks again.
      asked.catch(() => {
        if (held.get(instanceId) === asked) held.delete(instanceId);
      });
      return asked;
    },
    async address(walletIndex) {
      const kept = addresses.get(walletIndex);
      if (kept) return kept;
      const { address } = await patiently(`the address at ${walletIndex}`, () =>
        client.getAgentAddress({ walletIndex }, { timeoutMs: 10_000 }),
      );
      const checked = getAddress(address);
      addresses.set(walletIndex, checked);
      return checked;
    },
    forget(instanceId) {
      held.delete(instanceId);
    },
    close: () => service.close(),
  };
}
