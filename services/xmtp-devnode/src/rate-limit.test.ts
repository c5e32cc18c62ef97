// The node's rolling five-minute limits per client (rate-limit.ts).
import { describe, expect, it } from "vitest";
import { callerAddress, NETWORK_LIMITS, RateWindow, WINDOW_MS } from "./rate-limit.js";

describe("RateWindow", () => {
  it("lets a client make the network's 3,000 writes in five minutes, refuses the next, and others are not held back", () => {
    let now = 0;
    const w = new RateWindow(NETWORK_LIMITS, () => now);
    for (let i = 0; i < 3_000; i++) expect(w.take("a", "writes")).toBe(true);
    expect(w.take("a", "writes")).toBe(false);
    expect(w.take("b", "writes")).toBe(true);
    // Reads are counted apart.
    expect(w.take("a", "reads")).toBe(true);
    now = WINDOW_MS / 2;
    expect(w.take("a", "writes")).toBe(false);
  });

  it("rolls: what was made more than five minutes ago no longer counts, and a refused call is not counted", () => {
    let now = 0;
    const w = new RateWindow({ writes: 10, reads: 0 }, () => now);
    for (let i = 0; i < 10; i++) w.take("a", "writes");
    for (let i = 0; i < 5; i++) expect(w.take("a", "writes")).toBe(false);
    now = WINDOW_MS + 1;
    for (let i = 0; i < 10; i++) expect(w.take("a", "writes")).toBe(true);
    expect(w.take("a", "writes")).toBe(false);
    // No limit on reads when 0.
    for (let i = 0; i < 100; i++) expect(w.take("a", "reads")).toBe(true);
  });
});

describe("callerAddress", () => {
  it("counts a call against its caller's address, as the network does: the first X-Forwarded-For entry, else the peer without its port", () => {
    expect(callerAddress("ipv4:127.0.0.1:53412")).toBe("127.0.0.1");
    expect(callerAddress("ipv4:127.0.0.1:60000")).toBe("127.0.0.1");
    expect(callerAddress("ipv6:[::1]:53412")).toBe("::1");
    expect(callerAddress("ipv4:10.0.0.2:1", "203.0.113.9, 10.0.0.1")).toBe("203.0.113.9");
  });
});
