// An agent's status (status.ts): its wallet. Real keys from a seed and a
// workspace path; the keys service's answers are only counted.
import { english, generateMnemonic } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { type AgentKeys, seedKeys } from "../../platform/keys.js";
import { Workspace } from "../../platform/workspace.js";
import { Status } from "./status.js";

function statusAt(walletIndex: number) {
  const keys = seedKeys(generateMnemonic(english));
  const asked: string[] = [];
  const counting: AgentKeys = {
    ...keys,
    wallet: (id, index) => {
      asked.push(id);
      return keys.wallet(id, index);
    },
  };
  const ws = new Workspace("/nonexistent", "status-test");
  const status = new Status({ keys: counting, walletIndex, xmtpApiUrl: "", ws, log: createLogger("test") });
  return { status, keys, asked };
}

describe("an agent's wallet", () => {
  it("is asked for when first needed, not when the agent starts: a dormant agent brought back asks for none", async () => {
    const { status, keys, asked } = statusAt(7);
    expect(status.wallet).toBeUndefined();
    expect(() => status.mustWallet()).toThrow(/has not started/);
    expect(await status.walletNow()).toBeUndefined();
    status.useWallet();
    expect(asked).toEqual([]);
    expect(status.wallet, "not asked for yet").toBeUndefined();
    const expected = (await keys.wallet("status-test", 7)).address;
    const [a, b] = await Promise.all([status.walletNow(), status.walletNow()]);
    expect(a?.address).toBe(expected);
    expect(b).toBe(a);
    expect(status.mustWallet().address).toBe(expected);
    expect(asked, "asked once, for its own id").toEqual(["status-test"]);
  });
});
