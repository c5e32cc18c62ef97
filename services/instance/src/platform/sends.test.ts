// Retried sends (sends.ts): which failures are sent again, the waits, the order.
import { describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { retryDelays, SEND_RETRY, wasNotPublished, withRetriedSends } from "./sends.js";
import type { AgentGroup } from "./xmtp.js";

const log = createLogger("sends-test", { level: "silent" });

describe("retried sends", () => {
  it("sends again only what the SDK dropped unpublished, never another failure", () => {
    expect(wasNotPublished(new Error("[GroupError::Sync] 3 errors publishing intents"))).toBe(true);
    expect(wasNotPublished(new Error("status: ResourceExhausted, message: rate limit exceeded"))).toBe(true);
    expect(wasNotPublished(new Error("group not found"))).toBe(false);
  });

  it("waits 1 s, 2 s, 4 s ... up to a minute each, ten minutes in all", () => {
    const d = retryDelays(SEND_RETRY);
    expect(d.slice(0, 7)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000]);
    expect(Math.max(...d)).toBe(60_000);
    expect(d.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10 * 60_000);
  });

  it("keeps the order: a message waiting for the limit holds back the next, and both arrive once", async () => {
    const published: string[] = [];
    let refusals = 2;
    const group = {
      id: "g",
      async sendText(text: string) {
        if (text === "first" && refusals-- > 0) throw new Error("3 errors publishing intents");
        published.push(text);
        return text;
      },
    } as unknown as AgentGroup;
    const g = withRetriedSends(group, log, { firstDelayMs: 5, maxDelayMs: 10, giveUpAfterMs: 1_000 });
    const sent = await Promise.all([g.sendText("first"), g.sendText("second")]);
    expect(sent).toEqual(["first", "second"]);
    expect(published).toEqual(["first", "second"]);
    expect(g.id).toBe("g");
  });

  it("reads the group's own getters and private fields through the wrapper, as the SDK's classes have them", async () => {
    class Group {
      readonly #id = "g-private";
      get id() {
        return this.#id;
      }
      async sendText(text: string) {
        return `${this.#id}:${text}`;
      }
    }
    const g = withRetriedSends(new Group() as unknown as AgentGroup, log);
    expect(g.id).toBe("g-private");
    await expect(g.sendText("hi")).resolves.toBe("g-private:hi");
  });

  it("throws another failure at once, and the sends after it still go", async () => {
    const group = {
      async sendText(text: string) {
        if (text === "bad") throw new Error("group not found");
        return text;
      },
    } as unknown as AgentGroup;
    const g = withRetriedSends(group, log, { firstDelayMs: 5, maxDelayMs: 10, giveUpAfterMs: 1_000 });
    await expect(g.sendText("bad")).rejects.toThrow("group not found");
    await expect(g.sendText("good")).resolves.toBe("good");
  });
});
