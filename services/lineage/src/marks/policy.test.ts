import { describe, expect, it } from "vitest";
import { MAX_SEQUENCE, planPutMarks } from "./policy.js";

const ID = "inst_0123456789abcdef";
const mark = (over: Partial<{ instanceId: string; inboxId: string; sequence: bigint }> = {}) => ({
  instanceId: ID,
  inboxId: "inbox",
  sequence: 1n,
  ...over,
});

describe("planPutMarks", () => {
  it("checks each well-formed mark once, and refuses the rest naming the field", () => {
    const plans = planPutMarks([
      mark(),
      mark(),
      mark({ instanceId: "inst-short" }),
      mark({ instanceId: "inst_aaaaaaaaaaaaaaaa", inboxId: "" }),
      mark({ instanceId: "inst_bbbbbbbbbbbbbbbb", sequence: 0n }),
      mark({ instanceId: "inst_cccccccccccccccc", sequence: MAX_SEQUENCE + 1n }),
      mark({ instanceId: "inst_dddddddddddddddd", sequence: MAX_SEQUENCE }),
    ]);
    expect(plans.map((p) => (p.kind === "refuse" ? p.error.split(":")[0] : p.kind))).toEqual([
      "check",
      "instance_id",
      "instance_id",
      "inbox_id",
      "sequence",
      "sequence",
      "check",
    ]);
  });
});
