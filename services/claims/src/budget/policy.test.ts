import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ToolGrantSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { Code, type ConnectError } from "@connectrpc/connect";
import { preconditionFailureOf } from "@convos-pool/kit/content";
import {
  budgetDay,
  DEFAULT_BUDGET,
  grantCommand,
  OPEN_BUDGET,
  parseBudget,
  planSpend,
  spendIsCapped,
  type PoolBudget,
} from "./policy.js";

const T = "tmpl_AAAAAAAAAAAAAAAA";
const CREATOR = "c".repeat(64);
const grant = (
  over: Partial<{ templateId: string; creatorId: string; tools: string[]; fundWei: string; maxLiveTools: number }>,
) => create(ToolGrantSchema, { fundWei: "0", ...over });
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return {
      code: (err as ConnectError).code,
      failure: preconditionFailureOf(err),
      message: (err as ConnectError).rawMessage,
    };
  }
  throw new Error("not refused");
};

describe("planSpend", () => {
  it("refuses a number or a mailbox without a grant as a precondition, naming the tool and the operator's command", () => {
    const sms = refusal(() => planSpend(T, ["sms", "crypto"], undefined, DEFAULT_BUDGET, true));
    expect(sms.code).toBe(Code.FailedPrecondition);
    expect(sms.failure).toEqual({
      type: "pool tool grant",
      subject: `template:${T}`,
      description: `one of the pool's operators allows sms with: npm run -s pool -- grant-tools ${T} --tools sms`,
    });
    expect(sms.message).toContain("a phone number (sms)");
    expect(sms.message).toContain(`\`npm run -s pool -- grant-tools ${T} --tools sms\``);
    const both = refusal(() => planSpend(T, ["sms", "email"], undefined, DEFAULT_BUDGET, true));
    expect(both.message).toContain("a phone number (sms) and a mailbox (email)");
    expect(both.message).toContain(`--tools email,sms`);
  });

  it("names a command that keeps what the grant already allows, since a grant is set whole", () => {
    const g = grant({ templateId: T, tools: ["sms"], fundWei: "1000", maxLiveTools: 4 });
    const email = refusal(() => planSpend(T, ["email"], g, DEFAULT_BUDGET, true));
    expect(email.message).toContain("a mailbox (email)");
    expect(email.message).not.toContain("phone number");
    expect(email.failure?.description).toBe(
      `one of the pool's operators allows email with: npm run -s pool -- grant-tools ${T} --tools email,sms --fund-wei 1000 --max-live-tools 4`,
    );
    expect(grantCommand(T, ["sms"], undefined)).toBe(`npm run -s pool -- grant-tools ${T} --tools sms`);
  });

  it("lets a wallet through free and empty without a grant", () => {
    expect(planSpend(T, ["crypto"], undefined, DEFAULT_BUDGET, true)).toEqual({ paidTools: [], fundWei: 0n, count: 0 });
  });

  it("funds the wallet the grant says, only where the pool can fund and the template has a wallet", () => {
    const g = grant({ templateId: T, tools: ["sms"], fundWei: "1000" });
    expect(planSpend(T, ["sms", "crypto"], g, DEFAULT_BUDGET, true)).toEqual({
      paidTools: ["sms"],
      fundWei: 1000n,
      count: 2,
    });
    expect(planSpend(T, ["sms", "crypto"], g, DEFAULT_BUDGET, false).fundWei).toBe(0n);
    expect(planSpend(T, ["sms"], g, DEFAULT_BUDGET, true)).toEqual({ paidTools: ["sms"], fundWei: 0n, count: 1 });
  });

  it("counts against the grant's quota only when it has one and the claim uses it", () => {
    const g = grant({ creatorId: CREATOR, tools: ["sms", "email"], maxLiveTools: 5 });
    expect(planSpend(T, ["sms", "email"], g, DEFAULT_BUDGET, true).quota).toEqual({
      subject: `creator:${CREATOR}`,
      maxLiveTools: 5,
    });
    expect(planSpend(T, ["crypto"], g, DEFAULT_BUDGET, true).quota).toBeUndefined();
    expect(planSpend(T, ["sms"], grant({ templateId: T, tools: ["sms"] }), DEFAULT_BUDGET, true).quota).toBeUndefined();
  });

  it("the pool's blanket allowance lets numbers and mailboxes through for every template, still counted", () => {
    const open: PoolBudget = { ...DEFAULT_BUDGET, withoutGrant: ["sms", "email"] };
    const spend = planSpend(T, ["sms", "email"], undefined, open, true);
    expect(spend).toEqual({ paidTools: ["sms", "email"], fundWei: 0n, count: 2 });
    expect(spendIsCapped(spend, open)).toBe(true);
    expect(spendIsCapped(spend, OPEN_BUDGET)).toBe(false);
    expect(spendIsCapped(planSpend(T, ["crypto"], undefined, DEFAULT_BUDGET, true), DEFAULT_BUDGET)).toBe(false);
  });
});

describe("parseBudget", () => {
  it("defaults to a grant for each paid tool, 1 ether and 100 tools a day", () => {
    expect(parseBudget()).toEqual({ fundsPerDayWei: 10n ** 18n, toolsPerDay: 100, withoutGrant: [] });
  });

  it("reads funds.day, tools.day and the tools without a grant", () => {
    expect(parseBudget("funds.day=5000, tools.day=off", "sms, email,sms")).toEqual({
      fundsPerDayWei: 5000n,
      toolsPerDay: undefined,
      withoutGrant: ["sms", "email"],
    });
  });

  it("names the entry that is wrong", () => {
    expect(() => parseBudget("funds.day=1e18")).toThrow(/POOL_BUDGET funds.day/);
    expect(() => parseBudget("tools.day=-1")).toThrow(/POOL_BUDGET tools.day/);
    expect(() => parseBudget("wallets.day=3")).toThrow(/"wallets.day=3" is not/);
    expect(() => parseBudget("", "crypto")).toThrow(/POOL_TOOLS_WITHOUT_GRANT: "crypto"/);
  });
});

describe("budgetDay", () => {
  it("is the UTC day, renewing at midnight", () => {
    expect(budgetDay(new Date("2026-11-25T23:59:30Z"))).toEqual({ day: "2026-11-25", secondsLeft: 30 });
    expect(budgetDay(new Date("2026-11-26T00:00:00Z"))).toEqual({ day: "2026-11-26", secondsLeft: 86_400 });
  });
});
