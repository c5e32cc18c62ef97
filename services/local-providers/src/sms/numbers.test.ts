// The number shop in memory: its inventory and orders, with a real Carrier
// and no server; the order's completion is waited for with real timers.
import { generateKeyPairSync } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { Carrier } from "./carrier.js";
import { ApiError } from "./errors.js";
import { NumberShop, parseInventory, searchesInventory } from "./numbers.js";

function shopOf(spec = "+15550110000..+15550110009") {
  const stopping = new AbortController();
  const carrier = new Carrier(generateKeyPairSync("ed25519").privateKey, stopping.signal);
  return {
    carrier,
    shop: new NumberShop(parseInventory(spec), carrier, stopping.signal),
    stop: () => stopping.abort(),
  };
}

describe("the SMS inventory", () => {
  it("reads a range of US numbers, spaces allowed, and refuses anything else", () => {
    expect(parseInventory(" +15550110000 .. +15550110009 ")).toEqual({ first: 15550110000n, last: 15550110009n });
    expect(() => parseInventory("+445550110000..+445550110009")).toThrow(/US numbers only/);
    expect(() => parseInventory("+15550110009..+15550110000")).toThrow(/below the first/);
    expect(() => parseInventory("+15550000000..+15560000000")).toThrow(/at most 1000000 numbers/);
  });

  it("finds numbers for a US search of sms and voice only", () => {
    const search = { country: "US", features: ["sms", "voice"], limit: 10, startsWith: "" };
    expect(searchesInventory(search)).toBe(true);
    expect(searchesInventory({ ...search, country: "CA" })).toBe(false);
    expect(searchesInventory({ ...search, features: ["mms"] })).toBe(false);
  });
});

describe("NumberShop", () => {
  it("offers numbers lowest first, by the start of the national number, and not those ordered", () => {
    const { shop, stop } = shopOf();
    expect(shop.available(3)).toEqual(["+15550110000", "+15550110001", "+15550110002"]);
    expect(shop.available(10, "555011000")).toHaveLength(10);
    expect(shop.available(10, "5550110005")).toEqual(["+15550110005"]);
    shop.order(["+15550110000"], null, null);
    expect(shop.available(1)).toEqual(["+15550110001"]);
    stop();
  });

  it("orders every number or none: one taken, outside the inventory or twice refuses the whole list", () => {
    const { shop, stop } = shopOf();
    shop.order(["+15550110000"], null, null);
    for (const list of [
      ["+15550110001", "+15550110000"],
      ["+15550110001", "+15550120000"],
      ["+15550110001", "+15550110001"],
    ]) {
      expect(() => shop.order(list, null, null)).toThrow(ApiError);
    }
    expect(shop.available(1)).toEqual(["+15550110001"]);
    stop();
  });

  it("owns an ordered number once the order completes, on the order's profile, and sells it again once released", async () => {
    const { carrier, shop, stop } = shopOf();
    carrier.profiles.set("p1", {
      id: "p1",
      name: "agents",
      webhookUrl: null,
      whitelistedDestinations: ["US"],
      createdAt: "",
      updatedAt: "",
    });
    const order = shop.order(["+15550110003"], "agent-1", "p1");
    expect(order.status).toBe("pending");
    while (order.status === "pending") await sleep(20);
    const [owned] = shop.ownedNumbers();
    expect(shop.record(owned!)).toMatchObject({
      phone_number: "+15550110003",
      status: "active",
      messaging_profile_id: "p1",
      customer_reference: "agent-1",
    });
    expect(shop.release(owned!.id)).toEqual(owned);
    expect(carrier.profileOf("+15550110003")).toBeNull();
    expect(shop.available(10, "5550110003")).toEqual(["+15550110003"]);
    stop();
  });
});
