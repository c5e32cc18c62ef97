// A stand-in gateway for tests that run the CLI as `pool` runs (main.ts
// `run`): a fetch that records each request and answers with the replies a
// test queues, the signing domain of the local pool, a fresh folder for the
// key file, and stdout and stderr kept. Real: the CLI, its key files and
// its signatures (checked with the kit's verifier, `verify`); stand-in: the
// gateway.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  LOCAL_POOL_ID,
  signatureDomain,
  type SignedOperation,
} from "@convos-pool/kit/signing";
import { afterEach, beforeEach, expect } from "vitest";
import { run, type Io } from "../src/main.js";

export interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface StandInGateway {
  /** The folder relative paths are taken from (the key file's), fresh for each test. */
  dir: string;
  out: string[];
  err: string[];
  /** The requests the CLI sent, the signing domain's left out. */
  calls: Call[];
  /** The answers to the next requests, in order; a request with none left fails. */
  replies: Array<(call: Call) => Response | Promise<Response>>;
  /** What the gateway names as its signing domain (asked once per URL, not counted in calls). */
  domain: Record<string, unknown>;
  io: (extra?: Partial<Io>) => Io;
  stdout: () => string;
  stderr: () => string;
  /** `pool keygen`: the key's identity, stdout cleared. */
  keygen: () => Promise<{ address: string; inbox_id: string }>;
}

/** A stand-in gateway made fresh before each test of the file or describe that calls it. */
export function standInGateway(): StandInGateway {
  const g: StandInGateway = {
    dir: "",
    out: [],
    err: [],
    calls: [],
    replies: [],
    domain: {},
    io: (extra = {}) => ({
      env: { POOL_URL: "http://gw.test:9999" },
      cwd: g.dir,
      stdout: (t) => g.out.push(t),
      stderr: (t) => g.err.push(t),
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
        if (url.endsWith("/api/pool/signing-domain")) return json(200, g.domain)();
        const call = {
          method: init?.method ?? "GET",
          url,
          headers: { ...(init?.headers as Record<string, string>) },
          // The CLI sends JSON text.
          body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
        };
        g.calls.push(call);
        const reply = g.replies.shift();
        if (!reply) throw new Error(`unexpected request ${call.method} ${call.url}`);
        return reply(call);
      },
      ...extra,
    }),
    stdout: () => g.out.join(""),
    stderr: () => g.err.join(""),
    keygen: async () => {
      expect(await run(["--json", "keygen"], g.io())).toBe(0);
      const id = JSON.parse(g.stdout()) as { address: string; inbox_id: string };
      g.out = [];
      return id;
    },
  };
  beforeEach(async () => {
    g.dir = await mkdtemp(join(tmpdir(), "pool-cli-"));
    g.out = [];
    g.err = [];
    g.calls = [];
    g.replies = [];
    g.domain = { pool_id: LOCAL_POOL_ID, ...signatureDomain(LOCAL_POOL_ID) };
  });
  afterEach(async () => {
    await rm(g.dir, { recursive: true, force: true });
  });
  return g;
}

/** A reply of JSON. */
export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/** The address that signed `signature` over `fields`, as the services' verifier reads it; throws when it does not verify. */
export async function verify(
  op: SignedOperation,
  fields: Record<string, unknown>,
  signature: unknown,
  poolId = LOCAL_POOL_ID,
): Promise<string> {
  const s = signature as { signature: string; issued_at: number; nonce: string };
  const verifier = new SignatureVerifier({ poolId, resolver: new DerivedInboxResolver() });
  const v = await verifier.verify(
    op,
    fields as never,
    { signature: s.signature, issuedAt: BigInt(s.issued_at), nonce: s.nonce } as never,
  );
  return v.address;
}
