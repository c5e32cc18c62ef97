import { describe, expect, it } from "vitest";
import { renderIdentity } from "./identity-md.js";
import { soulFromJson } from "./soul.js";
import { sampleSoul } from "../../test/fixtures.js";

describe("IDENTITY.md", () => {
  it("without a SOUL: the agent's name, then the instructions verbatim", () => {
    expect(renderIdentity({ agentName: "Trip Planner", instructions: "  Plan trips.\n" })).toBe(
      "# Trip Planner\n\nPlan trips.\n",
    );
  });

  it("with a SOUL: its sections in order, before the instructions under their own heading", () => {
    const soul = soulFromJson(sampleSoul());
    expect(renderIdentity({ agentName: "Navigator", instructions: "Answer in nautical terms.", soul })).toBe(
      [
        "# Marlow",
        "**Role:** Ship's navigator",
        "Charts routes for the crew.",
        "## Principles",
        "- Check the tide twice.",
        "## Values",
        "- Safety over speed",
        "## Capabilities",
        "Domains:\n- sailing",
        "Skills:\n- plotting courses",
        "Limitations:\n- cannot see the weather",
        "## How you answer",
        "- Minimal: as short as an answer can be.\n- Summary first; detail when asked.\n- Keep an answer under about 300 tokens.",
        "## Constraints",
        "Topics you decline:\n- legal advice",
        "When to hold back:\n- When someone is in danger: hand it to a person in the conversation.\n- When a fee is due: ask your owner for approval first.\n- When asked to smuggle: decline.",
        "## Instructions",
        "Answer in nautical terms.",
      ]
        .join("\n\n")
        .concat("\n"),
    );
  });

  it("only the sections a SOUL fills; without its own name, the template's", () => {
    const soul = soulFromJson({ capabilities: { skills: ["haiku"] }, behavior: { progressive_disclosure: false } });
    expect(renderIdentity({ agentName: "Poet", instructions: "Write.", soul })).toBe(
      "# Poet\n\n## Capabilities\n\nSkills:\n- haiku\n\n## Instructions\n\nWrite.\n",
    );
    // A SOUL that sets nothing renders as none.
    expect(renderIdentity({ agentName: "Poet", instructions: "Write.", soul: soulFromJson({ identity: {} }) })).toBe(
      "# Poet\n\nWrite.\n",
    );
  });
});
