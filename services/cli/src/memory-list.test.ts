// How `pool memory-list` says who taught each entry (memory-commands.ts
// taughtBy), in memory: the entries are what an agent's ListMemory opens to.
import { describe, expect, it } from "vitest";
import { taughtBy } from "./memory-commands.js";

const OWNER = "0".repeat(64);
const SAUL = "a".repeat(64);

describe("who taught an entry, as memory-list prints it", () => {
  it("names the role, the member's short inbox and the conversation", () => {
    const base = { id: "mem_000000000000", kind: "training", text: "x" };
    expect(taughtBy({ ...base, role: "owner", from: OWNER, conversationId: "c0ffee12345" })).toBe("owner@c0ffee12");
    expect(taughtBy({ ...base, role: "member", from: SAUL })).toBe("member:aaaaaaaa");
    expect(taughtBy({ ...base, role: "member", from: SAUL, disputes: ["mem_1"] })).toBe("member:aaaaaaaa,disputes");
    expect(taughtBy({ ...base, role: "owner", from: SAUL, confirmedBy: OWNER })).toBe("owner,confirmed:aaaaaaaa");
    expect(taughtBy({ ...base, role: "outsider", from: "+1555" })).toBe("outsider:+1555");
    expect(taughtBy({ ...base, inheritedFrom: "inst_p", role: "owner" })).toBe("inherited(owner)");
    expect(taughtBy({ ...base, adoptedFrom: "pat_1" })).toBe("adopted");
    // Written before roles: a sender is a member; nothing known is unknown.
    expect(taughtBy({ ...base, from: SAUL })).toBe("member:aaaaaaaa");
    expect(taughtBy(base)).toBe("unknown");
  });
});
