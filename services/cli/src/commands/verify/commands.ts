// `pool verify-agent INBOX`: checks an agent of the pool as a member of its
// conversation would, trusting the pool no further than its attestation key
// (docs/signatures.md, "Birth certificate"): its Convos profile's
// attestation against the pool's JWKS, and each signature of its birth
// certificate against the XMTP network (XMTP_API_URL; without it, by inbox
// derivation only, which the report says).
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import {
  DerivedInboxResolver,
  JWKS_PATH,
  plainMetadata,
  SignatureVerifier,
  verifyAgentProfile,
  type AgentReport,
  type AttestationJwks,
  type InboxResolver,
  type ProfileMetadata,
} from "@convos-pool/kit/signing";
import { CliError } from "../../core/errors.js";
import type { Context } from "../../core/http.js";
import { poolIdOf } from "../../core/signing.js";

export interface VerifyAgentOptions {
  /** A file of the agent's profile: `convos conversation profiles ID --json`'s output, one profile, or its metadata. */
  profile?: string;
  /** Or read it from this conversation with the Convos CLI, as the member whose home is `convosHome`. */
  conversation?: string;
  convosHome?: string;
  /** The Convos CLI's XMTP environment (`local` for `npm start`'s node); default its own (CONVOS_ENV, else dev). */
  convosEnv?: string;
  /** The conversation's invite, to check the owner signed this conversation's. */
  invite?: string;
  /** Where the pool's JWKS is; default the gateway's /.well-known/agents.json. */
  jwksUrl?: string;
}

/** The report printed when an agent does not check out: `pool` exits 1 after printing it. */
export class AgentNotVerified extends CliError {
  constructor(readonly report: AgentReport) {
    super(`agent ${report.inboxId} does not check out: ${report.problems.join("; ")}`);
  }
}

/** The profile of `inboxId` in what a file or the Convos CLI gave: its metadata. */
export function profileMetadataOf(inboxId: string, raw: unknown): ProfileMetadata {
  const profiles = (raw as { profiles?: unknown[] } | undefined)?.profiles;
  if (Array.isArray(profiles)) {
    const mine = profiles.find((p) => (p as { inboxId?: string }).inboxId?.toLowerCase() === inboxId.toLowerCase());
    if (!mine) throw new CliError(`no profile of ${inboxId} in that conversation`);
    return plainMetadata(mine);
  }
  return plainMetadata(raw);
}

/** The Convos CLI's environments. */
export const CONVOS_ENVS = ["local", "dev", "production"] as const;

/**
 * The Convos CLI installed with the pool, as the member whose home is
 * `convosHome`, listing the conversation's profiles: its arguments after
 * the Node binary.
 */
export function profilesCommand(
  cwd: string,
  o: Pick<VerifyAgentOptions, "convosHome" | "convosEnv"> & { conversation: string },
): string[] {
  const bin = join(dirname(createRequire(import.meta.url).resolve("@xmtp/convos-cli")), "..", "bin", "run.js");
  const args = [bin, "conversation", "profiles", o.conversation, "--json"];
  if (o.convosHome) args.push("--home", resolve(cwd, o.convosHome));
  if (o.convosEnv !== undefined) {
    if (!(CONVOS_ENVS as readonly string[]).includes(o.convosEnv))
      throw new CliError(`--convos-env must be one of ${CONVOS_ENVS.join(", ")}, got "${o.convosEnv}"`);
    args.push("--env", o.convosEnv);
  }
  return args;
}

async function readProfile(ctx: Context, inboxId: string, o: VerifyAgentOptions): Promise<ProfileMetadata> {
  if (o.profile) {
    const file = resolve(ctx.cwd, o.profile);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, "utf8"));
    } catch (err) {
      throw new CliError(`${o.profile}: not a JSON file (${err instanceof Error ? err.message : String(err)})`);
    }
    return profileMetadataOf(inboxId, raw);
  }
  if (!o.conversation) throw new CliError("give the agent's profile: --profile FILE, or --conversation ID");
  const args = profilesCommand(ctx.cwd, { ...o, conversation: o.conversation });
  try {
    // NODE_ENV as people run the Convos CLI: "test" or "development" makes its framework load a TypeScript loader.
    const env = { ...process.env, NODE_ENV: "production" };
    const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 60_000, env });
    return profileMetadataOf(inboxId, JSON.parse(stdout.slice(Math.max(0, stdout.search(/^[{[]/m)))));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`the Convos CLI could not read that conversation's profiles: ${String(err).slice(0, 300)}`);
  }
}

async function fetchJwks(ctx: Context, url: string): Promise<AttestationJwks> {
  const res = await (ctx.fetch ?? fetch)(url);
  if (!res.ok) throw new CliError(`${url}: HTTP ${res.status}`);
  return (await res.json()) as AttestationJwks;
}

async function resolverFor(ctx: Context): Promise<{ resolver: InboxResolver; inboxCheck: string }> {
  if (!ctx.xmtpApiUrl) {
    return {
      resolver: new DerivedInboxResolver(),
      inboxCheck: "by inbox derivation only (set XMTP_API_URL to check against the XMTP network)",
    };
  }
  // Loaded only here: the SDK's native binding is large.
  const { XmtpInboxResolver } = await import("@convos-pool/convos");
  return { resolver: await XmtpInboxResolver.connect({ apiUrl: ctx.xmtpApiUrl }), inboxCheck: ctx.xmtpApiUrl };
}

export async function verifyAgent(
  ctx: Context,
  inboxId: string,
  o: VerifyAgentOptions,
): Promise<AgentReport & { jwksUrl: string; inboxCheck: string }> {
  if (!/^[0-9a-f]{64}$/i.test(inboxId)) throw new CliError(`INBOX must be an XMTP inbox id (64 hex), got "${inboxId}"`);
  const metadata = await readProfile(ctx, inboxId, o);
  const jwksUrl = o.jwksUrl ?? `${ctx.url}${JWKS_PATH}`;
  const jwks = await fetchJwks(ctx, jwksUrl);
  const { resolver, inboxCheck } = await resolverFor(ctx);
  const report = await verifyAgentProfile(inboxId.toLowerCase(), metadata, {
    jwks,
    verifier: new SignatureVerifier({ resolver, poolId: await poolIdOf(ctx) }),
    ...(ctx.now ? { now: ctx.now() } : {}),
    ...(o.invite !== undefined ? { invite: o.invite } : {}),
  });
  const out = { ...report, jwksUrl, inboxCheck };
  if (!report.valid) throw new AgentNotVerified(out);
  return out;
}
