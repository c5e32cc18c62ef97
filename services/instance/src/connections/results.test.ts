// Every status a phone may answer (results.ts), and what the agent does next.
import { describe, expect, it } from "vitest";
import { afterResult } from "./results.js";

const ask = { kind: "calendar", action: "create_event", capability: "write_create" as const, person: "Ana" };

describe("a phone's answer", () => {
  it("success: done, with what the phone returned", () => {
    expect(afterResult({ status: "success", result: { eventId: { type: "string", value: "evt-9" } } }, ask)).toEqual({
      ok: true,
      result: "done on Ana's phone (eventId: evt-9)",
    });
  });

  it("capability_not_enabled and capability_revoked: told once how, naming the capability, then back off", () => {
    for (const status of ["capability_not_enabled", "capability_revoked"]) {
      const after = afterResult({ status }, ask);
      expect(after).toMatchObject({ ok: false, backOff: true });
      expect(after.tell).toMatch(/^Ana, to do that I need Calendar → Create turned on for this conversation in Convos/);
    }
  });

  it("unknown_action: not pestered, not asked again", () => {
    const after = afterResult({ status: "unknown_action" }, ask);
    expect(after).toMatchObject({ ok: false, backOff: true });
    expect(after.tell).toBeUndefined();
  });

  it("authorization_denied: told to allow it in Settings; no retry", () => {
    const after = afterResult({ status: "authorization_denied" }, ask);
    expect(after).toMatchObject({ ok: false, backOff: true });
    expect(after.tell).toMatch(/Settings/);
    expect(after.retryLater).toBeUndefined();
  });

  it("requires_confirmation: asked again later", () => {
    expect(afterResult({ status: "requires_confirmation" }, ask)).toMatchObject({ ok: false, retryLater: true });
  });

  it("execution_failed: the phone's words, verbatim, and no retry", () => {
    const after = afterResult({ status: "execution_failed", errorMessage: "calendar is read-only" }, ask);
    expect(after).toEqual({
      ok: false,
      result: "not done: Ana's phone could not do it: calendar is read-only; do not try again",
    });
  });

  it("a status it does not know: not done, said as the phone said it", () => {
    expect(afterResult({ status: "quantum_flux" }, ask).result).toBe(`not done: Ana's phone answered "quantum_flux"`);
  });
});
