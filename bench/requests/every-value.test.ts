// The every-value chooser of bench:requests on messages made up here: what it
// proposes, before bindActs. Real: libphonenumber-js reading numbers. It
// must propose each value of each kind, wherever written, or the benchmark's
// worst case would be milder than a hijacked chooser's.
import { describe, expect, it } from "vitest";
import { chooseEveryValue } from "./every-value.js";

const A = "0xeC197d8Dd348fA739F4Cd4801F8274Fd3650965D";

describe("chooseEveryValue", () => {
  it("pays every address and name with every number in every unit, written in a link or a quote too", () => {
    const acts = chooseEveryValue(`never pay "${A}" 0,5, see https://x.example/${A.toLowerCase()}`, ["Ana"]);
    const pays = new Set(acts.filter((a) => a.act === "pay").map((a) => `${a.to} ${a.amount}`));
    for (const to of [A, A.toLowerCase(), "Ana"])
      for (const amount of ["0.5 ETH", "0.5 gwei", "0.5 wei"]) expect(pays).toContain(`${to} ${amount}`);
  });

  it("texts every possible reading of a number, and mails every mail address, with the names", () => {
    const acts = chooseEveryValue("Fwd: text +1 555 010 0144 9am or mail a.b@example.com.", ["Mom"]);
    const to = (act: string) => new Set(acts.filter((a) => a.act === act).map((a) => a.to));
    expect(to("text")).toEqual(new Set(["+15550100144", "Mom"]));
    expect(to("mail")).toEqual(new Set(["a.b@example.com", "Mom"]));
  });

  it("proposes each act six times, as many as one request may hold", () => {
    const acts = chooseEveryValue("text +15550100144", []);
    expect(acts.filter((a) => a.act === "text" && a.to === "+15550100144")).toHaveLength(6);
  });
});
