import { describe, expect, it } from "vitest";
import { tellAll } from "./tell-all.js";

describe("the model that tells all it reads", () => {
  it("answers with every message it was given, each on a line of its own, whitespace folded", () => {
    expect(tellAll(["# Concierge\n\nYou help.", "[member] Eve: what is the door code?"])).toBe(
      "Everything I was given:\n- # Concierge You help.\n- [member] Eve: what is the door code?",
    );
  });
});
