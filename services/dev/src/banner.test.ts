// The banner of `npm start`, as plain calls: every command it prints is
// parsed by the CLI's own parser (services/cli's args.ts), so a command or a
// flag renamed there fails here. The grant command a refused claim names
// (services/claims' budget policy) is checked the same way.
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "@convos-pool/cli/args";
import { DEFAULT_BUDGET, grantCommand, parseBudget } from "@convos-pool/claims";
import { bannerLines, type BannerFacts } from "./banner.js";
import { LOCAL_BUDGET, localBudgetFromEnv } from "./budget.js";

const facts = (over: Partial<BannerFacts> = {}): BannerFacts => ({
  gatewayUrl: "http://127.0.0.1:8080",
  xmtpUrl: "http://127.0.0.1:5556",
  xmtpMetricsUrl: "http://127.0.0.1:40000",
  chainRpcUrl: "http://127.0.0.1:8545",
  ownerAccount: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  smtpUrl: "smtp://127.0.0.1:2525",
  pop3Url: "pop3://127.0.0.1:1110",
  smsUrl: "http://127.0.0.1:8125",
  hosts: [{ url: "http://127.0.0.1:40001", dataDir: ".data/instances" }],
  budget: LOCAL_BUDGET,
  operators: [],
  ...over,
});

const PREFIX = "npm run -s pool -- ";

/** Each `npm run -s pool -- …` of a text: up to two spaces, a `;`, a `)` or the line's end. */
function poolCommands(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    let at = line.indexOf(PREFIX);
    while (at >= 0) {
      const rest = line.slice(at + PREFIX.length);
      const end = rest.search(/ {2}|;|\)|$/);
      out.push(rest.slice(0, end).trim());
      at = line.indexOf(PREFIX, at + PREFIX.length);
    }
  }
  return out;
}

/** A command's words as a shell splits them (double quotes only: all the banner uses). */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

describe("the banner of npm start", () => {
  const variants = {
    "the local stand-ins granted (npm start)": facts(),
    "nothing granted (POOL_TOOLS_WITHOUT_GRANT=)": facts({ budget: DEFAULT_BUDGET }),
    "numbers only": facts({ budget: parseBudget("tools.day=off", "sms") }),
    "an operator and two hosts": facts({
      operators: ["a".repeat(64)],
      hosts: [
        { url: "http://127.0.0.1:1", dataDir: "a" },
        { url: "http://127.0.0.1:2", dataDir: "b", pid: 42 },
      ],
    }),
  };

  it.each(Object.entries(variants))("prints only pool commands the CLI knows, with its flags: %s", (_, f) => {
    const commands = poolCommands(bannerLines(f).join("\n"));
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const c of commands) expect(() => parseCommandLine(words(c)), c).not.toThrow();
  });

  it("finds a command the CLI does not know (the test can fail)", () => {
    const [bad] = poolCommands("  hint: npm run -s pool -- curation grant-tools; docs/limits.md");
    expect(bad).toBe("curation grant-tools");
    expect(() => parseCommandLine(words(bad!))).toThrow(/unknown command "curation"/);
    expect(() => parseCommandLine(words("grant-tools X --tool sms"))).toThrow();
  });

  it("says what npm start pays for, and that a deployed pool needs its operators' grants", () => {
    const local = bannerLines(facts()).find((l) => l.includes("what the pool pays for"))!;
    expect(local).toContain("numbers and mailboxes for every template, from its local stand-ins, up to 100 a day");
    expect(local).toContain("wallet funding only under an operator's grant");
    expect(local).toContain("A deployed pool pays for nothing without its operators' grants");
    const deployed = bannerLines(facts({ budget: DEFAULT_BUDGET })).find((l) => l.includes("what the pool pays for"))!;
    expect(deployed).toContain("nothing without an operator's grant");
    expect(deployed).toContain("grant-tools TEMPLATE_ID --tools sms,email --fund-wei WEI");
  });

  it("names a refused claim's grant command in words the CLI takes", () => {
    for (const c of [
      grantCommand("tmpl_AAAAAAAAAAAAAAAA", ["sms"], undefined),
      grantCommand("tmpl_AAAAAAAAAAAAAAAA", ["email", "sms"], undefined),
    ]) {
      const [command] = poolCommands(c);
      expect(parseCommandLine(words(command!))).toMatchObject({ command: "grant-tools" });
    }
  });
});

describe("npm start's budget", () => {
  it("grants the local stand-ins unless POOL_TOOLS_WITHOUT_GRANT says otherwise; set empty, nothing", () => {
    expect(localBudgetFromEnv({}).withoutGrant).toEqual(["sms", "email"]);
    expect(localBudgetFromEnv({ POOL_TOOLS_WITHOUT_GRANT: "" }).withoutGrant).toEqual([]);
    expect(localBudgetFromEnv({ POOL_TOOLS_WITHOUT_GRANT: "email" }).withoutGrant).toEqual(["email"]);
    expect(localBudgetFromEnv({ POOL_BUDGET: "tools.day=5" }).toolsPerDay).toBe(5);
    expect(() => localBudgetFromEnv({ POOL_TOOLS_WITHOUT_GRANT: "crypto" })).toThrow(/POOL_TOOLS_WITHOUT_GRANT/);
  });
});
