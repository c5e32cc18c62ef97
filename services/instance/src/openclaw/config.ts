// What a gateway of one agent runs with (pure): its openclaw.json and its
// environment. One gateway per agent, because OpenClaw treats a gateway as one
// trust domain: its own state directory, loopback port and token. It thinks
// and nothing more: no shell, no file tools, no web, no channels, no
// heartbeat, no update checks, no telemetry (docs/openclaw.md).

/** The agent every gateway runs, and the chat-completions model that names it. */
export const OPENCLAW_AGENT = "main";
export const OPENCLAW_MODEL = `openclaw/${OPENCLAW_AGENT}`;
/** The provider id the upstream model is registered under in openclaw.json. */
export const UPSTREAM_PROVIDER = "pool";

/** OpenClaw's own tools, off: its shell, file writing and patching, the web, its control of itself. */
export const DENIED_TOOLS = [
  "group:runtime",
  "group:fs",
  "group:web",
  "group:ui",
  "group:nodes",
  "group:automation",
  "group:sessions",
  "group:media",
  "gateway",
] as const;

/** Where a gateway keeps what it writes, under the agent's workspace (…/openclaw/). */
export interface GatewayPaths {
  /** OPENCLAW_STATE_DIR: sessions, its database, its logs. */
  state: string;
  /** openclaw.json. */
  config: string;
  /** Its workspace: IDENTITY.md, SOUL.md, AGENTS.md, MEMORY.md (written by the host). */
  workspace: string;
  /** TMPDIR and HOME of the process, so nothing goes to a shared temporary folder. */
  tmp: string;
  home: string;
  /** logging.file. */
  log: string;
}

export interface GatewayConfigInput {
  port: number;
  paths: GatewayPaths;
  /** The upstream OpenAI-compatible endpoint the agent's model is at (the host's LLM_BASE_URL). */
  upstreamBaseUrl: string;
  /** The model, as the agent's config names it (the template's default or the owner's). */
  model: string;
}

/** The environment variables that carry secrets, so none is written in openclaw.json. */
export const TOKEN_ENV = "OPENCLAW_GATEWAY_TOKEN";
export const UPSTREAM_KEY_ENV = "POOL_UPSTREAM_API_KEY";

/** openclaw.json: the gateway on loopback with token auth and chat completions, one agent, one model. */
export function gatewayConfig(input: GatewayConfigInput): Record<string, unknown> {
  return {
    gateway: {
      mode: "local",
      port: input.port,
      bind: "loopback",
      auth: { mode: "token", token: `\${${TOKEN_ENV}}` },
      http: { endpoints: { chatCompletions: { enabled: true } } },
    },
    telemetry: { enabled: false },
    update: { checkOnStart: false },
    logging: { file: input.paths.log },
    browser: { enabled: false },
    models: {
      mode: "replace",
      providers: {
        [UPSTREAM_PROVIDER]: {
          baseUrl: input.upstreamBaseUrl,
          apiKey: `\${${UPSTREAM_KEY_ENV}}`,
          api: "openai-completions",
          models: [
            {
              id: input.model,
              name: input.model,
              reasoning: false,
              input: ["text"],
              contextWindow: 128_000,
              maxTokens: 4_096,
            },
          ],
        },
      },
    },
    agents: {
      defaults: {
        workspace: input.paths.workspace,
        // The host writes every file OpenClaw reads; OpenClaw creates none (no BOOTSTRAP.md ritual).
        skipBootstrap: true,
        model: { primary: `${UPSTREAM_PROVIDER}/${input.model}` },
        // No turn the conversation did not ask for: each would be a model call no one sees.
        heartbeat: { every: "0m" },
      },
    },
    tools: { profile: "minimal", deny: [...DENIED_TOOLS] },
  };
}

/** The gateway process's environment: only what it needs, secrets in variables, every folder its own. */
export function gatewayEnv(
  input: { paths: GatewayPaths; token: string; upstreamApiKey: string; nodeDir: string },
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return {
    PATH: `${input.nodeDir}:${base.PATH ?? "/usr/bin:/bin"}`,
    ...(base.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: base.NODE_EXTRA_CA_CERTS } : {}),
    LANG: base.LANG ?? "C.UTF-8",
    HOME: input.paths.home,
    TMPDIR: input.paths.tmp,
    OPENCLAW_STATE_DIR: input.paths.state,
    OPENCLAW_CONFIG_PATH: input.paths.config,
    [TOKEN_ENV]: input.token,
    [UPSTREAM_KEY_ENV]: input.upstreamApiKey || "none",
    DO_NOT_TRACK: "1",
    OPENCLAW_NO_AUTO_UPDATE: "1",
    OPENCLAW_DISABLE_BONJOUR: "1",
    OPENCLAW_NO_RESPAWN: "1",
    OPENCLAW_SKIP_CHANNELS: "1",
    OPENCLAW_EXEC_SHELL_SNAPSHOT: "0",
    NO_COLOR: "1",
  };
}
