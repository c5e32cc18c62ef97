// The registry is the one list of functions: what the model is offered and
// what runs both come from it, for the tools an agent holds and its host
// reaches. In memory: the clients are real and reach nothing, since
// preparing a call never contacts a provider.
import { createLogger } from "@convos-pool/kit/server";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { AgentTools, type ToolEnvironment } from "./agent-tools.js";
import { TOOLS } from "./registry.js";
import { TelnyxClient } from "../providers/telnyx.js";
import { TOOL_WORDS, ToolInputError, type RawArguments } from "./tool.js";

const log = createLogger("registry-test", { level: "error" });
const KEY = generatePrivateKey();
const ENV: ToolEnvironment = {
  mail: { smtpUrl: "smtp://127.0.0.1:9", pop3Url: "pop3://127.0.0.1:9" },
  chain: { rpcUrl: "http://127.0.0.1:9" },
  sms: { client: new TelnyxClient({ baseUrl: "http://127.0.0.1:9", apiKey: "unused" }) },
};
const HELD = [
  { toolId: "sms", handle: "+15550100042" },
  { toolId: "email", handle: "concierge@agents.localhost" },
  { toolId: "crypto", handle: privateKeyToAccount(KEY).address },
];
const SECRETS = { email: { password: "unused" }, crypto: { private_key: KEY } };
const holding = (ids: readonly string[], env = ENV) =>
  new AgentTools(
    env,
    HELD.filter((t) => ids.includes(t.toolId)),
    SECRETS,
    {},
    log,
  );
/** Good arguments for every function, each of its parameters given. */
const GOOD: Record<string, RawArguments> = {
  send_sms: { to: "+15550100001", text: "running late" },
  send_email: { to: "ana@example.com", subject: "Dinner", text: "7pm?" },
  list_email: { limit: 5 },
  read_email: { id: "1" },
  wallet_balance: {},
  send_payment: { to: "0x8ba1f109551bD432803012645Ac136ddd64DBA72", amount_eth: "0.01" },
};
const names = (tools: AgentTools) => tools.specs().map((s) => s.name);

describe("the registry of tool functions", () => {
  it("offers an agent holding every tool every function of the registry, in the registry's order, each named once", () => {
    const tools = holding(["sms", "email", "crypto"]);
    expect(names(tools)).toEqual(TOOLS.map((t) => t.name));
    expect(new Set(names(tools)).size).toBe(TOOLS.length);
    // Each function has good arguments above: a new one must be tested here.
    expect(Object.keys(GOOD).sort()).toEqual(names(tools).sort());
  });

  it("runs every function it offers, and offers every function it runs", () => {
    const tools = holding(["sms", "email", "crypto"]);
    for (const name of names(tools)) expect(tools.prepare(name, GOOD[name] ?? {}).action).toBe(name);
    for (const tool of TOOLS) expect(names(tools)).toContain(tool.name);
    expect(() => tools.prepare("launch_rocket", {})).toThrow(
      new ToolInputError('there is no function "launch_rocket"'),
    );
  });

  it("tells the model of exactly the arguments it reads: a required one missing is refused by name, an optional one is not", () => {
    const tools = holding(["sms", "email", "crypto"]);
    for (const spec of tools.specs()) {
      const good = GOOD[spec.name] ?? {};
      expect(Object.keys(spec.parameters.properties)).toEqual(Object.keys(good));
      for (const param of Object.keys(spec.parameters.properties)) {
        const { [param]: _, ...without } = good;
        if (spec.parameters.required.includes(param))
          expect(() => tools.prepare(spec.name, without)).toThrow(new ToolInputError(`${param} is required`));
        else expect(tools.prepare(spec.name, without).action).toBe(spec.name);
      }
    }
  });

  it("offers and runs only the functions of the tools an agent holds and its host reaches", () => {
    for (const id of ["sms", "email", "crypto"] as const) {
      const tools = holding([id]);
      expect(tools.usable).toEqual([id]);
      expect(names(tools)).toEqual(TOOLS.filter((t) => t.toolId === id).map((t) => t.name));
      for (const tool of TOOLS.filter((t) => t.toolId !== id))
        expect(() => tools.prepare(tool.name, GOOD[tool.name] ?? {})).toThrow(
          new ToolInputError(`I have no ${TOOL_WORDS[tool.toolId]} to do that with`),
        );
    }
    // Held, but this host reaches no provider for them: neither offered nor run.
    const unreachable = holding(["sms", "email", "crypto"], {});
    expect([unreachable.usable, names(unreachable)]).toEqual([[], []]);
    expect(() => unreachable.prepare("send_sms", GOOD.send_sms ?? {})).toThrow(
      "I have no phone number to do that with",
    );
  });

  it("names each function's own handle in what it tells the model", () => {
    const specs = holding(["sms", "email", "crypto"]).specs();
    const description = (name: string) => specs.find((s) => s.name === name)?.description;
    expect(description("send_sms")).toBe("Text a phone number from your number +15550100042.");
    expect(description("send_email")).toBe("Send an email from your address concierge@agents.localhost.");
    expect(description("wallet_balance")).toBe(`The balance of your wallet ${privateKeyToAccount(KEY).address}.`);
  });
});
