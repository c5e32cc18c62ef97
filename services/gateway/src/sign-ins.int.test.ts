// Sign-ins bound to the place they were made for (docs/security.md, "Sign-ins
// from look-alike sites"): a real pool's gateway and a look-alike that uses
// the same POOL_ID, each a real gateway with its own real PostgreSQL database,
// at its own origin (its loopback address, the default of POOL_PUBLIC_URL).
// No upstream service is needed: a sign-in and a sign-out are the gateway's own.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { createLogger, generateServiceCredentials, NO_LIMITS } from "@convos-pool/kit/server";
import { signInJson, signInMessage, signSignIn } from "@convos-pool/kit/signing";
import { parseSiweMessage } from "viem/siwe";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity } from "@convos-pool/kit/testing";
import { restCall, restSignature } from "../test/rest.js";
import { startGateway, type RunningGateway } from "./server.js";

const POOL_ID = "pool-east";
const CREDS = generateServiceCredentials();

let real: RunningGateway;
let lookalike: RunningGateway;
let configured: RunningGateway;

const signIn = (on: RunningGateway, body: unknown, headers: Record<string, string> = {}) =>
  restCall(on.url, "POST", "/api/pool/sessions", { body, headers });

/** A sign-in of `who` made for `madeFor`, for `poolId`. */
async function signInFor(madeFor: string, who = newIdentity(), poolId = POOL_ID) {
  return signInJson(await signSignIn(who.account, who.inboxId, madeFor, undefined, poolId));
}

/** A sign-in whose message names `place` as it is, however odd: what a client of its own could sign. */
async function signInNaming(place: { origin: string; uri: string }, who = newIdentity()) {
  const issuedAt = Math.floor(Date.now() / 1000);
  const nonce = `0x${"ab".repeat(32)}`;
  const fields = { ...place, poolId: POOL_ID, inboxId: who.inboxId, address: who.account.address, nonce, issuedAt };
  const signature = await who.account.signMessage({ message: signInMessage(fields) });
  return {
    inbox_id: who.inboxId,
    address: who.account.address,
    ...place,
    signature: { signature, issued_at: issuedAt, nonce },
  };
}

beforeAll(async () => {
  const gateway = async (name: string, publicUrls?: string[]) =>
    startGateway({
      poolId: POOL_ID,
      publicUrls,
      // Never called: sign-ins do not leave the gateway.
      templatesUrl: "http://127.0.0.1:9",
      credentials: CREDS.gateway,
      limits: NO_LIMITS,
      databaseUrl: await createTestDatabase(`gw_signin_${name}`),
      log: createLogger(name, { level: "silent" }),
    });
  real = await gateway("real");
  lookalike = await gateway("lookalike");
  configured = await gateway("configured", ["https://pool-east.example/", "https://www.pool-east.example"]);
});

afterAll(async () => {
  await configured?.close();
  await lookalike?.close();
  await real?.close();
});

describe("a sign-in names the gateway it was made for", () => {
  it("one made for a look-alike gateway with the same pool id works there and is refused by the real one, over REST and Connect", async () => {
    const victim = newIdentity();
    // What a phishing site gets from its visitor: valid for the pool id, made for its own origin.
    const phished = await signInFor(lookalike.url, victim);
    const replayed = await signIn(real, phished);
    expect(replayed.status).toBe(401);
    expect(replayed.json.error.type).toBe("unauthenticated");
    expect(replayed.json.error.message).toMatch(
      new RegExp(`^origin: the sign-in was made for ${new URL(lookalike.url).origin},`),
    );
    expect(replayed.json.token).toBeUndefined();

    const connect = createClient(SessionService, createConnectTransport({ baseUrl: real.url }));
    const again = await signSignIn(victim.account, victim.inboxId, lookalike.url, undefined, POOL_ID);
    const err = ConnectError.from(await connect.createSession(again).catch((e: unknown) => e));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/^origin: /);

    // It was refused for its place, not spent: the look-alike itself takes it.
    expect((await signIn(lookalike, phished)).status).toBe(200);
  });

  it("one made for the real gateway signs in there once: the same sign-in again is refused (its nonce is spent)", async () => {
    const body = await signInFor(real.url);
    const first = await signIn(real, body);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect((await restCall(real.url, "DELETE", "/api/pool/sessions", { token: first.json.token })).status).toBe(204);
    const replayed = await signIn(real, body);
    expect(replayed.status).toBe(401);
    expect(replayed.json.error.message).toMatch(/^signature\.nonce: /);
  });

  it("the signed origin is what counts: changing origin or uri in the request breaks the signature", async () => {
    const who = newIdentity();
    const body = await signInFor(lookalike.url, who);
    const relabelled = { ...body, origin: new URL(real.url).origin, uri: `${real.url}/` };
    const res = await signIn(real, relabelled);
    expect(res.status).toBe(401);
    expect(res.json.error.message).toMatch(/^signature: not 0x[0-9a-fA-F]{40}'s sign-in to pool "pool-east" at /);
    // Nor does naming another inbox, or a wallet of another.
    const other = newIdentity();
    expect((await signIn(real, { ...(await signInFor(real.url, who)), inbox_id: other.inboxId })).status).toBe(401);
    const theirs = await signIn(real, { ...(await signInFor(real.url, who)), address: other.account.address });
    expect(theirs.status).toBe(401);
    // Made for another pool at the same gateway.
    const westward = await signIn(real, await signInFor(real.url, who, "pool-west"));
    expect(westward.status).toBe(401);
    expect(westward.json.error.message).toMatch(/^signature: /);
  });

  it("what the wallet signs is a Sign-In with Ethereum message naming the gateway's domain, the inbox and the pool", async () => {
    const who = newIdentity();
    let shown = "";
    const watching = {
      address: who.account.address,
      signMessage: ({ message }: { message: string }) => {
        shown = message;
        return who.account.signMessage({ message });
      },
    };
    const s = await signSignIn(watching, who.inboxId, real.url, undefined, POOL_ID);
    const parsed = parseSiweMessage(shown);
    const gateway = new URL(real.url);
    expect(parsed).toMatchObject({
      scheme: "http",
      domain: gateway.host,
      address: who.account.address,
      uri: `${real.url}/`,
      version: "1",
      chainId: 1,
      nonce: s.signature.nonce.slice(2),
    });
    expect(parsed.statement).toBe(`Sign in to the Convos agent pool "pool-east" as the inbox ${who.inboxId}.`);
    expect(parsed.expirationTime!.getTime() - parsed.issuedAt!.getTime()).toBe(300_000);
    const body = { inbox_id: who.inboxId, address: s.address, origin: s.origin, uri: s.uri };
    expect((await signIn(real, { ...body, signature: restSignature(s.signature) })).status).toBe(200);
  });

  it("a browser's Origin header must be the signed origin; a uri must be under it; an origin is scheme, host and port only", async () => {
    const realOrigin = new URL(real.url).origin;
    const fromElsewhere = await signIn(real, await signInFor(real.url), { origin: new URL(lookalike.url).origin });
    expect(fromElsewhere.status).toBe(401);
    expect(fromElsewhere.json.error.message).toMatch(/^origin: the sign-in names .* but was sent from /);
    expect((await signIn(real, await signInFor(real.url), { origin: realOrigin })).status).toBe(200);

    const who = newIdentity();
    const place = { origin: realOrigin, uri: `${lookalike.url}/` };
    const signed = await signInNaming(place, who);
    const elsewhere = await signIn(real, signed);
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.json.error.message).toMatch(/^uri: .* is not under the signed origin/);

    const withPath = await signIn(real, { ...(await signInFor(real.url)), origin: `${realOrigin}/` });
    expect(withPath.status).toBe(400);
    expect(withPath.json.error.field).toBe("origin");
    const missing = await signIn(real, { inbox_id: who.inboxId, signature: signed.signature });
    expect(missing.status).toBe(400);
    expect(missing.json.error.field).toBe("origin");
  });

  it("with public URLs configured (POOL_PUBLIC_URL), a sign-in must name one of their origins, and its loopback address no longer does", async () => {
    const loopback = await signIn(configured, await signInFor(configured.url));
    expect(loopback.status).toBe(401);
    expect(loopback.json.error.message).toMatch(/^origin: the sign-in was made for http:\/\/127\.0\.0\.1:/);
    expect((await signIn(configured, await signInFor("https://pool-east.example"))).status).toBe(200);
    expect((await signIn(configured, await signInFor("https://www.pool-east.example/pool/"))).status).toBe(200);
  });
});
