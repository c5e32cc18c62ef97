// Who is given an agent's key (policy.ts), pure: placements made here, no
// claims service, no seed, no key.
import { Code, type ConnectError } from "@connectrpc/connect";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { fieldViolations } from "@convos-pool/kit/content";
import { MAX_WALLET_INDEX } from "@convos-pool/kit/signing";
import { argumentRefusal, credentialRefusal, type Placement, releaseRefusal } from "./policy.js";

const A = "http://host-a.test:7100";
const B = "http://host-b.test:7100";
const C = "http://host-c.test:7100";
const ID = "inst_AAAAAAAAAAAAAAAA";
const on = (hostUrl: string, more: Partial<Placement> = {}): Placement => ({
  instanceId: ID,
  hostUrl,
  walletIndex: 7,
  hostLost: false,
  movingTo: "",
  ...more,
});

const codeOf = (err: ConnectError | undefined) => (err ? Code[err.code] : "given");

describe("releaseRefusal", () => {
  it("gives the key to the host the agent is placed on, at its index", () => {
    expect(releaseRefusal(on(A), A, 7)).toBeUndefined();
  });

  it("gives it to the lost host's agent on that host too: an agent that could not be moved keeps running there", () => {
    expect(releaseRefusal(on(A, { hostLost: true, movingTo: B }), A, 7)).toBeUndefined();
  });

  it("gives it to the host a move restores it on, while its own host is marked lost", () => {
    expect(releaseRefusal(on(A, { hostLost: true, movingTo: B }), B, 7)).toBeUndefined();
  });

  it("refuses moving_to alone while the agent's own host is not lost", () => {
    const err = releaseRefusal(on(A, { movingTo: B }), B, 7);
    expect(codeOf(err)).toBe("PermissionDenied");
  });

  it("refuses another host with PERMISSION_DENIED naming the agent, never the host it runs on", () => {
    const err = releaseRefusal(on(A), B, 7);
    expect(codeOf(err)).toBe("PermissionDenied");
    expect(err?.rawMessage).toBe(`instance_id: ${ID} runs on another host; its key goes to that host alone`);
    expect(err?.rawMessage).not.toContain(A);
  });

  it("refuses the hosts' shared credential (no host of its own) with PERMISSION_DENIED saying which credential is needed", () => {
    const err = releaseRefusal(on(A), undefined, 7);
    expect(codeOf(err)).toBe("PermissionDenied");
    expect(err?.rawMessage).toContain("that host's own credential");
    expect(err?.rawMessage).toContain("not the hosts' shared one");
    expect(credentialRefusal(undefined)?.rawMessage).toBe(err?.rawMessage);
    expect(credentialRefusal(A)).toBeUndefined();
  });

  it("refuses its own host asking at another index with FAILED_PRECONDITION naming wallet_index", () => {
    const err = releaseRefusal(on(A), A, 8);
    expect(codeOf(err)).toBe("FailedPrecondition");
    expect(err?.rawMessage).toMatch(/^wallet_index: 8 is not the index of inst_A{16}; the pool runs it at 7$/);
  });

  it("tells another host nothing of the index: the host is checked first", () => {
    expect(codeOf(releaseRefusal(on(A), B, 8))).toBe("PermissionDenied");
  });

  const host = fc.constantFrom(A, B, C, "");
  const placement = fc.record({
    instanceId: fc.constant(ID),
    hostUrl: fc.constantFrom(A, B, C),
    walletIndex: fc.nat({ max: 20 }),
    hostLost: fc.boolean(),
    movingTo: host,
  });

  test.prop([placement, fc.option(host, { nil: undefined }), fc.nat({ max: 20 })])(
    "a caller that is neither the agent's host nor the host a move off a lost host restores it on is always refused PERMISSION_DENIED",
    (p, caller, index) => {
      fc.pre(caller !== p.hostUrl && !(p.hostLost && caller === p.movingTo && caller !== ""));
      expect(codeOf(releaseRefusal(p, caller, index))).toBe("PermissionDenied");
    },
  );

  test.prop([placement, fc.constantFrom(A, B, C), fc.nat({ max: 20 })])(
    "a key is given only at the agent's own index, and always to its host at that index",
    (p, caller, index) => {
      if (releaseRefusal(p, caller, index) === undefined) expect(index).toBe(p.walletIndex);
      expect(releaseRefusal(p, p.hostUrl, p.walletIndex)).toBeUndefined();
    },
  );
});

describe("argumentRefusal", () => {
  it("takes an instance id and an index from 0 to MAX_WALLET_INDEX", () => {
    expect(argumentRefusal({ instanceId: ID, walletIndex: 0 })).toBeUndefined();
    expect(argumentRefusal({ instanceId: ID, walletIndex: MAX_WALLET_INDEX })).toBeUndefined();
    expect(argumentRefusal({ walletIndex: 3 })).toBeUndefined();
  });

  it("refuses a malformed instance id and an index past MAX_WALLET_INDEX with INVALID_ARGUMENT naming the field", () => {
    for (const [req, field] of [
      [{ instanceId: "", walletIndex: 0 }, "instance_id"],
      [{ instanceId: "inst_short", walletIndex: 0 }, "instance_id"],
      [{ instanceId: `${ID}\n`, walletIndex: 0 }, "instance_id"],
      [{ instanceId: ID, walletIndex: MAX_WALLET_INDEX + 1 }, "wallet_index"],
      [{ walletIndex: 2 ** 32 - 1 }, "wallet_index"],
    ] as const) {
      const err = argumentRefusal(req);
      expect(codeOf(err)).toBe("InvalidArgument");
      expect(fieldViolations(err!).map((v) => v.field)).toEqual([field]);
      expect(err!.rawMessage.startsWith(`${field}: `)).toBe(true);
    }
  });
});
