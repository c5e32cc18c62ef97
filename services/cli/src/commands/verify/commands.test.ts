// pool verify-agent's reading of a conversation: the Convos CLI it runs,
// as which member and on which XMTP environment (a home made with `--env
// local` does not remember it: without it the CLI asks the dev network).
// Real: the installed Convos CLI's path; nothing is run.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { profileMetadataOf, profilesCommand } from "./commands.js";

const AGENT = "a".repeat(64);

describe("pool verify-agent --conversation", () => {
  it("runs the installed Convos CLI's conversation profiles as the member's home, on the environment asked for", () => {
    const args = profilesCommand("/work", { conversation: "c0ffee", convosHome: "homes/ana", convosEnv: "local" });
    expect(existsSync(args[0]!)).toBe(true);
    expect(args.slice(1)).toEqual([
      "conversation",
      "profiles",
      "c0ffee",
      "--json",
      "--home",
      "/work/homes/ana",
      "--env",
      "local",
    ]);
    // Without one, the CLI's own choice (CONVOS_ENV, else its default).
    expect(profilesCommand("/work", { conversation: "c0ffee" })).not.toContain("--env");
  });

  it("refuses an environment the Convos CLI does not have, naming the option", () => {
    expect(() => profilesCommand("/work", { conversation: "c0ffee", convosEnv: "mainnet" })).toThrow(/--convos-env/);
  });

  it("finds the agent's profile among the conversation's, by inbox in any case", () => {
    const printed = {
      profiles: [
        { inboxId: "b".repeat(64), metadata: {} },
        { inboxId: AGENT.toUpperCase(), metadata: { participation: { type: "string", value: "mention" } } },
      ],
    };
    expect(profileMetadataOf(AGENT, printed)).toEqual({ participation: "mention" });
    expect(() => profileMetadataOf("c".repeat(64), printed)).toThrow(/no profile/);
  });
});
