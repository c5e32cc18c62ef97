// XMTP's rate limit on writes (docs/instance.md, "XMTP's limits"): the local
// node refuses a client's writes past its limit with RESOURCE_EXHAUSTED, as
// the network does, and the SDK then drops the message; the agent sends it
// again after a backoff (platform/sends.ts), so every answer arrives, once and
// in order. Real: the instance host, the local XMTP node (its limiter set low
// once the agent has joined: three writes in a sliding window of one second), a Convos
// conversation's creator (@xmtp/node-sdk) asking many questions at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@convos-pool/testing";
import { OneHost } from "@convos-pool/instance/testing";

const QUESTIONS = 5;
const one = new OneHost({ name: "instance-rate-limit", host: { joinTimeoutMs: 20_000 } });

beforeAll(() => one.start(), 90_000);
afterAll(() => one.close(), 30_000);

async function refusals(): Promise<number> {
  const text = (await one.node.metrics.text()).body;
  return [...text.matchAll(/^pool_rpc_requests_total\{[^}]*code="resource_exhausted"[^}]*\} (\d+)/gm)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
}

describe("the network's rate limit on writes", () => {
  it("refuses the agent's writes past the limit, and every answer still arrives, once", async () => {
    const a = await one.joined("inst-busy", 0);
    await one.creator!.ask(a.groupId, a.inboxId, "Hello?", 20_000);
    // From here on: three writes a second from this machine (the agent and the creator share them, as the network counts by address). Each answer costs the agent a few (typing, the answer).
    // A window no longer than the agent's first backoff (1 s): a message sent again finds room sooner (the window of 4 s took 30 s of waiting).
    one.node.setRateLimits({ writes: 3, reads: 0, windowMs: 1_000 });
    // The creator is held to the limit too: it waits and asks again when refused.
    for (let i = 1; i <= QUESTIONS; i++)
      for (let tries = 0; ; tries++) {
        try {
          await one.creator!.send(a.groupId, `Question ${i}: what is open today?`);
          break;
        } catch (err) {
          if (tries > 60) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    const answers = async () => (await one.creator!.transcript(a.groupId)).filter((l) => l.from === a.inboxId);
    await waitFor(`${QUESTIONS + 1} answers`, async () => (await answers()).length >= QUESTIONS + 1, 150_000, 500);
    expect(await refusals(), "the node refused some of the agent's writes").toBeGreaterThan(0);
    // None twice: a little longer, and still one answer a question.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await answers()).toHaveLength(QUESTIONS + 1);
  }, 200_000);
});
