// The Telnyx number provider against the local SMS stand-in (@convos-pool/local-providers), a real
// HTTP server in this process that sells, orders and texts as Telnyx's API does. Each test buys from
// a stand-in of its own, so the tests run at once: most of each one's time is waiting for an order
// to complete (the stand-in's 150 ms, found by the provider's first look 200 ms after ordering).
import { startLocalSms, type LocalSms } from "@convos-pool/local-providers";
import { afterAll, describe, expect, it } from "vitest";
import { TelnyxNumberProvider } from "./telnyx-numbers.js";
import { ProvisioningError } from "./types.js";

/** Retries as the product makes them, a few ms apart: the policy is what is tested, not the wait. */
const FAST = 5;

const started: LocalSms[] = [];

// After all, not after each: the tests run at once, and one's end must not close another's stand-in.
afterAll(async () => {
  for (const s of started.splice(0)) await s.close();
});

/** A stand-in selling `count` numbers from +1 555 011 0000 up. */
async function telnyxSelling(count: number): Promise<{ sms: LocalSms; inventory: string[] }> {
  const inventory = Array.from({ length: count }, (_, i) => `+155501${10_000 + i}`);
  const sms = await startLocalSms({ inventory: `${inventory[0]}..${inventory.at(-1)}` });
  started.push(sms);
  return { sms, inventory };
}

async function get(sms: LocalSms, path: string): Promise<unknown> {
  const res = await fetch(`${sms.url}${path}`, { headers: { authorization: `Bearer ${sms.apiKey}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: unknown }).data;
}

/** The account's record of the number, if it owns it. */
async function owned(sms: LocalSms, number: string): Promise<Record<string, unknown> | undefined> {
  const query = new URLSearchParams({ "filter[phone_number]": number }).toString();
  const numbers = (await get(sms, `/v2/phone_numbers?${query}`)) as ({ phone_number: string } & Record<
    string,
    unknown
  >)[];
  return numbers.find((n) => n.phone_number === number);
}

async function forSale(sms: LocalSms): Promise<string[]> {
  return ((await get(sms, "/v2/available_phone_numbers?filter[limit]=100")) as { phone_number: string }[]).map(
    (n) => n.phone_number,
  );
}

async function refusal(p: Promise<unknown>): Promise<ProvisioningError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProvisioningError);
  return err as ProvisioningError;
}

describe.concurrent("the Telnyx phone-number provider (against the stand-in)", () => {
  it("buys a number from the inventory under the instance's id, and gives the instance no secret", async () => {
    const { sms, inventory } = await telnyxSelling(3);
    const telnyx = new TelnyxNumberProvider({ apiUrl: sms.url, apiKey: sms.apiKey, retryBackoffMs: FAST });
    expect([telnyx.toolId, telnyx.name]).toEqual(["sms", "telnyx"]);

    const made = await telnyx.provision("inst_bought");
    expect(inventory).toContain(made.handle);
    expect(made.secrets).toEqual({});
    expect(await owned(sms, made.handle)).toMatchObject({
      status: "active",
      customer_reference: "inst_bought",
      messaging_profile_id: null,
    });
    expect(await forSale(sms)).not.toContain(made.handle);
  });

  it("puts the number on the configured messaging profile, where it texts", async () => {
    const { sms } = await telnyxSelling(3);
    const res = await fetch(`${sms.url}/v2/messaging_profiles`, {
      method: "POST",
      headers: { authorization: `Bearer ${sms.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: "agents",
        webhook_url: "http://127.0.0.1:9/unused",
        whitelisted_destinations: ["US"],
      }),
    });
    const profileId = ((await res.json()) as { data: { id: string } }).data.id;
    const telnyx = new TelnyxNumberProvider({
      apiUrl: `${sms.url}/`,
      apiKey: sms.apiKey,
      messagingProfileId: profileId,
    });

    const made = await telnyx.provision("inst_profiled");
    expect(await owned(sms, made.handle)).toMatchObject({ messaging_profile_id: profileId });
    const sent = await fetch(`${sms.url}/v2/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${sms.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ from: made.handle, to: "+15557770051", text: "Your table is booked" }),
    });
    expect(sent.status).toBe(200);
    expect((await sms.phone("+15557770051").waitForMessage()).from).toBe(made.handle);
  });

  it("gives instances asking at once distinct numbers, each ordered under its own instance", async () => {
    const { sms, inventory } = await telnyxSelling(8);
    const telnyx = new TelnyxNumberProvider({ apiUrl: sms.url, apiKey: sms.apiKey, retryBackoffMs: FAST });

    const made = await Promise.all(Array.from({ length: 6 }, (_, i) => telnyx.provision(`inst_${i}`)));
    const numbers = made.map((m) => m.handle);
    expect(new Set(numbers).size).toBe(6);
    expect(numbers.every((n) => inventory.includes(n))).toBe(true);
    for (const [i, n] of numbers.entries())
      expect(await owned(sms, n)).toMatchObject({ customer_reference: `inst_${i}` });
  });

  it("says exhausted when no number is for sale", async () => {
    const { sms } = await telnyxSelling(2);
    const telnyx = new TelnyxNumberProvider({ apiUrl: sms.url, apiKey: sms.apiKey, retryBackoffMs: FAST });
    await telnyx.provision("inst_a");
    await telnyx.provision("inst_b");

    const err = await refusal(telnyx.provision("inst_c"));
    expect(err.reason).toBe("exhausted");
    expect(err.message).toBe("Telnyx has no US number with SMS for sale");
    // Another country has none either.
    const { sms: other } = await telnyxSelling(2);
    expect(
      (
        await refusal(
          new TelnyxNumberProvider({
            apiUrl: other.url,
            apiKey: other.apiKey,
            retryBackoffMs: FAST,
            countryCode: "GB",
          }).provision("inst_d"),
        )
      ).reason,
    ).toBe("exhausted");
  });

  it("says unavailable, without the key, when Telnyx refuses the API key, cannot be reached, or the order does not complete in time", async () => {
    const { sms } = await telnyxSelling(3);
    const wrongKey = "KEYwrong_0123456789abcdef";
    const refused = await refusal(
      new TelnyxNumberProvider({ apiUrl: sms.url, apiKey: wrongKey, retryBackoffMs: FAST }).provision("inst_a"),
    );
    expect(refused.reason).toBe("unavailable");
    expect(refused.message).toBe("Telnyx refused the API key");
    expect(refused.message).not.toContain(wrongKey);
    await expect(
      new TelnyxNumberProvider({ apiUrl: sms.url, apiKey: wrongKey, retryBackoffMs: FAST }).release("+15550110000"),
    ).rejects.toThrow("Telnyx refused the API key");

    const unreachable = await refusal(
      new TelnyxNumberProvider({ apiUrl: "http://127.0.0.1:9", apiKey: sms.apiKey, retryBackoffMs: FAST }).provision(
        "inst_b",
      ),
    );
    expect(unreachable.reason).toBe("unavailable");
    expect(unreachable.message).toBe("Telnyx could not be reached");

    // The stand-in completes an order after a moment, longer than this.
    const late = await refusal(
      new TelnyxNumberProvider({
        apiUrl: sms.url,
        apiKey: sms.apiKey,
        retryBackoffMs: FAST,
        orderTimeoutMs: 1,
      }).provision("inst_late"),
    );
    expect(late.reason).toBe("unavailable");
    expect(late.message).toContain("customer reference inst_late");
    expect(late.message).not.toContain(sms.apiKey);
  });

  it("releases a number: deleted from the account and for sale again; releasing it again, or a number never bought, is fine", async () => {
    const { sms } = await telnyxSelling(1);
    const telnyx = new TelnyxNumberProvider({ apiUrl: sms.url, apiKey: sms.apiKey, retryBackoffMs: FAST });
    const made = await telnyx.provision("inst_done");
    expect(await forSale(sms)).toEqual([]);

    await telnyx.release(made.handle);
    expect(await owned(sms, made.handle)).toBeUndefined();
    expect(await forSale(sms)).toEqual([made.handle]);
    await telnyx.release(made.handle);
    await telnyx.release("+15550100000");

    // Given back, it can be bought again.
    expect((await telnyx.provision("inst_next")).handle).toBe(made.handle);
  });

  it("gives back every number ordered under an instance, recorded or not, and no other instance's", async () => {
    const { sms } = await telnyxSelling(3);
    const telnyx = new TelnyxNumberProvider({ apiUrl: sms.url, apiKey: sms.apiKey, retryBackoffMs: FAST });
    const lost = await telnyx.provision("inst_lost");
    const lostToo = await telnyx.provision("inst_lost");
    const kept = await telnyx.provision("inst_kept");
    expect(await telnyx.releaseAllOf("inst_lost")).toBe(2);
    expect(await owned(sms, lost.handle)).toBeUndefined();
    expect(await owned(sms, lostToo.handle)).toBeUndefined();
    expect(await owned(sms, kept.handle)).toMatchObject({ customer_reference: "inst_kept" });
    expect(await telnyx.releaseAllOf("inst_lost")).toBe(0);
  });
});
