// An agent's life (life.ts): its wallet. Real master seed and workspace
// path; the seed is only counted, each derivation still its own.
import { english, generateMnemonic } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { MasterSeed } from "../platform/keys.js";
import { Workspace } from "../platform/workspace.js";
import { AgentLife } from "./life.js";

function lifeAt(walletIndex: number) {
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
  const ws = new Workspace("/nonexistent", "life-test");
  const life = new AgentLife({ seed: counting, walletIndex, xmtpApiUrl: "", ws, log: createLogger("test") });
  return { life, seed, counted };
}

describe("an agent's wallet", () => {
  it("is derived when first used, not when the agent starts: a dormant agent brought back derives none", () => {
    const { life, seed, counted } = lifeAt(7);
    expect(life.wallet).toBeUndefined();
    expect(() => life.mustWallet()).toThrow(/has not started/);
    life.useWallet();
    expect(counted.derived).toBe(0);
    expect(life.mustWallet().address).toBe(seed.wallet(7).address);
    expect(life.wallet?.address).toBe(seed.wallet(7).address);
    expect(counted.derived).toBe(1);
  });
});
