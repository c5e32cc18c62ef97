import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FILES, Workspace } from "../../platform/workspace.js";
import { MAX_REFUSALS, MoneyLedger, REFUSALS_WINDOW_MS, paymentsOf, refusalsOf, spentWithin } from "./ledger.js";

const HOUR = 60 * 60 * 1000;
const NOW = Date.parse("2026-11-25T12:00:00Z");
const at = (ms: number) => new Date(ms).toISOString();

describe("the ledger's lines", () => {
  it("count a payment from its reservation on, until it is settled as not sent; a line cut short is skipped", () => {
    const text = [
      JSON.stringify({ kind: "reserved", id: "a", at: at(NOW - HOUR), amountWei: "100", to: "0x1" }),
      JSON.stringify({ kind: "settled", id: "a", at: at(NOW - HOUR), sent: true }),
      JSON.stringify({ kind: "reserved", id: "b", at: at(NOW - HOUR), amountWei: "20", to: "0x1" }),
      JSON.stringify({ kind: "settled", id: "b", at: at(NOW - HOUR), sent: false }),
      // Reserved, then the process died: it counts.
      JSON.stringify({ kind: "reserved", id: "c", at: at(NOW - HOUR), amountWei: "3", to: "0x1" }),
      '{"kind":"reserved","id":"d","at":"2026-11-25T11:00:00Z","amountWei":"40',
    ].join("\n");
    expect(spentWithin(paymentsOf(text).values(), NOW)).toBe(103n);
  });

  it("count what is younger than 24 hours", () => {
    const p = (hoursAgo: number, wei: bigint) => ({
      at: NOW - hoursAgo * HOUR,
      amountWei: wei,
      feeWei: 0n,
      to: "",
      counts: true,
    });
    expect(spentWithin([p(23.9, 1n), p(24, 10n), p(30, 100n), p(0, 1000n)], NOW)).toBe(1001n);
  });

  it("count a payment's network fee: the most it may cost while reserved, what it paid once settled, sent or reverted", () => {
    const line = (l: Record<string, unknown>) => JSON.stringify({ at: at(NOW - HOUR), to: "0x1", ...l });
    const text = [
      // Reserved at 100 and a fee of at most 9; sent, having paid 4.
      line({ kind: "reserved", id: "a", amountWei: "100", feeWei: "9" }),
      line({ kind: "settled", id: "a", sent: true, feeWei: "4" }),
      // Reverted by the chain: its amount stays, its fee of 3 was paid.
      line({ kind: "reserved", id: "b", amountWei: "20", feeWei: "9" }),
      line({ kind: "settled", id: "b", sent: false, feeWei: "3" }),
      // Never sent (the wallet could not cover it): nothing counts.
      line({ kind: "reserved", id: "c", amountWei: "20", feeWei: "9" }),
      line({ kind: "settled", id: "c", sent: false }),
      // Reserved, then the process died: its amount and its most.
      line({ kind: "reserved", id: "d", amountWei: "1000", feeWei: "9" }),
      // A line written before fees were counted: its amount alone.
      line({ kind: "reserved", id: "e", amountWei: "10000" }),
    ].join("\n");
    expect(spentWithin(paymentsOf(text).values(), NOW)).toBe(104n + 3n + 0n + 1009n + 10000n);
  });
});

describe("the money ledger in a workspace", () => {
  // Each line is a durable write: the compaction is reached at 200 lines here, not the product's 2,000.
  const SMALL = { compactAt: 200 };
  let dir: string;
  let ws: Workspace;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ledger-"));
    ws = new Workspace(dir, "inst_ledger");
    await ws.create();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("is read back as it was written: a reopened ledger counts the same", async () => {
    const ledger = await MoneyLedger.open(ws);
    await ledger.reserve("p1", { amountWei: 5n, to: "0xa" }, new Date(NOW - HOUR));
    await ledger.settle("p1", { sent: true }, new Date(NOW - HOUR));
    await ledger.reserve("p2", { amountWei: 7n, to: "0xa" }, new Date(NOW - HOUR));
    await ledger.settle("p2", { sent: false }, new Date(NOW - HOUR));
    await ledger.reserve("p3", { amountWei: 11n, to: "0xa" }, new Date(NOW - HOUR));
    expect(ledger.spentWei(NOW)).toBe(16n);
    expect((await MoneyLedger.open(ws)).spentWei(NOW)).toBe(16n);
  });

  it("drops only what is older than a day when it grows, and keeps counting the rest", async () => {
    const ledger = await MoneyLedger.open(ws, SMALL);
    // A hundred payments of the day before yesterday: their 200 lines reach the compaction.
    for (let i = 0; i < 100; i++) {
      await ledger.reserve(`old${i}`, { amountWei: 1n, to: "0xa" }, new Date(NOW - 30 * HOUR + i));
      await ledger.settle(`old${i}`, { sent: true }, new Date(NOW));
    }
    for (let i = 0; i < 50; i++) {
      const when = new Date(NOW - HOUR + i);
      await ledger.reserve(`new${i}`, { amountWei: 2n, to: "0xa" }, when);
      await ledger.settle(`new${i}`, { sent: i % 2 === 0 }, new Date(NOW));
    }
    expect(ledger.spentWei(NOW)).toBe(50n);
    const lines = (await readFile(ws.path(FILES.ledger), "utf8")).split("\n").filter(Boolean);
    expect(lines.length).toBe(100);
    expect((await MoneyLedger.open(ws, SMALL)).spentWei(NOW)).toBe(50n);
  });

  it("counts refusals per requester: one requester's flood holds up nobody else's payments", async () => {
    const ledger = await MoneyLedger.open(ws);
    for (let i = 0; i < MAX_REFUSALS; i++) await ledger.refused("outsider:+15550188009", NOW + i);
    expect(ledger.mayTry("outsider:+15550188009", NOW + MAX_REFUSALS)).toBe(false);
    expect(ledger.mayTry("owner:Saul", NOW + MAX_REFUSALS)).toBe(true);
    expect(ledger.mayTry("outsider:+15550188009", NOW + REFUSALS_WINDOW_MS)).toBe(true);
  });

  it("keeps a requester's refusals across a restart, and writes a flood's first MAX_REFUSALS only", async () => {
    const ledger = await MoneyLedger.open(ws);
    for (let i = 0; i < 5 * MAX_REFUSALS; i++) await ledger.refused("member:mallory", NOW + i);
    expect(ledger.mayTry("member:mallory", NOW + HOUR / 2)).toBe(false);
    const text = await readFile(ws.path(FILES.ledger), "utf8");
    expect(refusalsOf(text)).toHaveLength(MAX_REFUSALS);
    // The host restarts: the limit holds, for the same requester only, until the window has passed.
    const reopened = await MoneyLedger.open(ws);
    expect(reopened.mayTry("member:mallory", NOW + HOUR / 2)).toBe(false);
    expect(reopened.mayTry("owner:saul", NOW + HOUR / 2)).toBe(true);
    expect(reopened.mayTry("member:mallory", NOW + MAX_REFUSALS + REFUSALS_WINDOW_MS)).toBe(true);
  });

  it("keeps the refusals still in their window when it compacts, and drops older ones", async () => {
    const ledger = await MoneyLedger.open(ws, SMALL);
    await ledger.refused("member:old", NOW - 2 * HOUR);
    for (let i = 0; i < MAX_REFUSALS; i++) await ledger.refused("member:mallory", NOW - HOUR / 2 + i);
    for (let i = 0; i < 100; i++) {
      await ledger.reserve(`p${i}`, { amountWei: 1n, to: "0xa" }, new Date(NOW - 30 * HOUR));
      await ledger.settle(`p${i}`, { sent: true }, new Date(NOW));
    }
    const text = await readFile(ws.path(FILES.ledger), "utf8");
    expect(text.split("\n").filter(Boolean).length).toBeLessThan(100);
    expect(refusalsOf(text)).toHaveLength(MAX_REFUSALS);
    expect(new Set(refusalsOf(text).map((r) => r.requester))).toEqual(new Set(["member:mallory"]));
    expect((await MoneyLedger.open(ws, SMALL)).mayTry("member:mallory", NOW)).toBe(false);
  });

  it("reserves a payment's fee with its amount, settles at the fee paid, and keeps that through a restart and a compaction", async () => {
    const ledger = await MoneyLedger.open(ws, SMALL);
    await ledger.reserve("paid", { amountWei: 100n, feeWei: 50n, to: "0xa" }, new Date(NOW - HOUR));
    await ledger.reserve("reverted", { amountWei: 100n, feeWei: 50n, to: "0xa" }, new Date(NOW - HOUR));
    expect(ledger.spentWei(NOW)).toBe(300n);
    await ledger.settle("paid", { sent: true, feeWei: 21n }, new Date(NOW - HOUR));
    await ledger.settle("reverted", { sent: false, feeWei: 30n }, new Date(NOW - HOUR));
    expect(ledger.spentWei(NOW)).toBe(151n);
    expect((await MoneyLedger.open(ws, SMALL)).spentWei(NOW)).toBe(151n);
    // Past the compaction, rewritten: the same.
    for (let i = 0; i < 100; i++) {
      await ledger.reserve(`old${i}`, { amountWei: 1n, feeWei: 1n, to: "0xa" }, new Date(NOW - 30 * HOUR));
      await ledger.settle(`old${i}`, { sent: true }, new Date(NOW));
    }
    expect((await readFile(ws.path(FILES.ledger), "utf8")).split("\n").filter(Boolean).length).toBeLessThan(10);
    expect((await MoneyLedger.open(ws, SMALL)).spentWei(NOW)).toBe(151n);
  });

  it("starts empty after clear (a new claim)", async () => {
    const ledger = await MoneyLedger.open(ws);
    await ledger.reserve("p", { amountWei: 9n, to: "0xa" });
    await ledger.clear();
    expect(ledger.spentWei()).toBe(0n);
    expect((await MoneyLedger.open(ws)).spentWei()).toBe(0n);
  });
});
