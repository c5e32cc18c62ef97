// An agent's status (status.ts): its wallet. Real master seed and workspace
// path; the seed is only counted, each derivation still its own.
import { english, generateMnemonic } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { MasterSeed } from "../../platform/keys.js";
import { Workspace } from "../../platform/workspace.js";
import { Status } from "./status.js";

function statusAt(walletIndex: number) {
  const seed = MasterSeed.parse(generateMnemonic(english));
  const counted = { derived: 0 };
  const counting = Object.create(seed, {
    wallet: {
      value: (index: number) => {
        counted.derived++;
        return seed.wallet(index);
      },
    },
  }) as MasterSeed;
  const ws = new Workspace("/nonexistent", "status-test");
  const status = new Status({ seed: counting, walletIndex, xmtpApiUrl: "", ws, log: createLogger("test") });
  return { status, seed, counted };
}

describe("an agent's wallet", () => {
  it("is derived when first used, not when the agent starts: a dormant agent brought back derives none", () => {
    const { status, seed, counted } = statusAt(7);
    expect(status.wallet).toBeUndefined();
    expect(() => status.mustWallet()).toThrow(/has not started/);
    status.useWallet();
    expect(counted.derived).toBe(0);
    expect(status.mustWallet().address).toBe(seed.wallet(7).address);
    expect(status.wallet?.address).toBe(seed.wallet(7).address);
    expect(counted.derived).toBe(1);
  });
});
