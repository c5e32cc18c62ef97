// Sign in with Convos end to end (docs/signatures.md, "Sign in with Convos"):
// a real gateway whose sign-in inbox is a real XMTP client on the project's
// local XMTP node, a real PostgreSQL database, and people who send codes from
// real clients: the real Convos CLI (`convos conversations join` on the
// invite the page shows, as the Convos app does when it opens the link) and
// a person's XMTP client typing the code into a DM (services/convos,
// person.ts); the name a join request's profile gives comes back with the
// session. No stand-ins.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import type { Client, Dm } from "@xmtp/node-sdk";
import pg from "pg";
import { generatePrivateKey } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { newPersonKey, personClient, saidOf } from "@convos-pool/convos";
import { createLogger, generateServiceCredentials, NO_LIMITS } from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { runConvos } from "@convos-pool/testing/convos-cli";
import { waitFor } from "@convos-pool/testing/wait";
import { xmtpPortForTest, type XmtpPort } from "@convos-pool/testing/xmtp-port";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { startGateway, type RunningGateway } from "../server.js";
import { formatCode } from "./policy.js";
import { NO_SIGN_IN_INBOX } from "./service.js";

const CREDS = generateServiceCredentials();
let xmtp: XmtpPort | undefined;
let node: RunningDevnode | undefined;
let gateway: RunningGateway | undefined;
let bare: RunningGateway | undefined;
let strict: RunningGateway | undefined;
let dbUrl: string;
let dir: string;
const people: Client<unknown>[] = [];

const client = (g: RunningGateway, headers: Record<string, string> = {}) =>
  createClient(
    SessionService,
    createConnectTransport({
      baseUrl: g.url,
      interceptors: [
        (next) => (req) => {
          for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
          return next(req);
        },
      ],
    }),
  );
const sessions = () => client(gateway!);
const origin = () => new URL(gateway!.url).origin;
const failure = async (p: Promise<unknown>) =>
  ConnectError.from(
    await p.then(
      () => undefined,
      (e: unknown) => e,
    ),
  );

/** Asks for collects until the code was sent; what the page shows then. */
async function collected(code: string, secret: string) {
  let answer: Awaited<ReturnType<ReturnType<typeof sessions>["collectConvosSignIn"]>> | undefined;
  await waitFor(
    "the sign-in inbox to take the code",
    async () => {
      answer = await sessions().collectConvosSignIn({ code, secret });
      return !answer.waiting;
    },
    20_000,
  );
  return answer!;
}

async function newPerson(): Promise<Client<unknown>> {
  const p = await personClient(newPersonKey(), { apiUrl: node!.url, dbPath: null });
  people.push(p);
  return p;
}

/** The person types `text` into a DM to the sign-in inbox; its DM. */
async function sendCode(person: Client<unknown>, to: string, text: string): Promise<Dm<unknown>> {
  const dm = await person.conversations.createDm(to);
  await dm.sendText(text);
  return dm;
}

/** The sign-in inbox's next answer in the DM. */
async function answerIn(dm: Dm<unknown>, from: string): Promise<string> {
  let text: string | undefined;
  await waitFor(
    "the sign-in inbox to answer",
    async () => {
      await dm.sync();
      const said = (await dm.messages()).map(saidOf).filter((s) => s?.senderInboxId === from);
      text = said.at(-1)?.text;
      return text !== undefined;
    },
    20_000,
  );
  return text!;
}

async function sql(query: string, params: unknown[]) {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    await c.query(query, params);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  xmtp = await xmtpPortForTest({ timeoutMs: 30_000 });
  dir = await mkdtemp(join(tmpdir(), "convos-sign-in-"));
  node = await startDevnode({ port: xmtp.port, databaseUrl: await createTestDatabase("gw_convos_signin_xmtp") });
  dbUrl = await createTestDatabase("gw_convos_signin");
  const common = {
    // Never called: sign-ins do not leave the gateway.
    templatesUrl: "http://127.0.0.1:9",
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
  };
  gateway = await startGateway({
    ...common,
    databaseUrl: dbUrl,
    signInInbox: { apiUrl: node.url, privateKey: generatePrivateKey() },
    log: createLogger("gateway", { level: "silent" }),
  });
  // Two codes a minute per sending inbox: guessing is slowed per sender.
  strict = await startGateway({
    ...common,
    limits: { signInsPerInbox: { points: 2, seconds: 60 } },
    databaseUrl: await createTestDatabase("gw_convos_signin_strict"),
    signInInbox: { apiUrl: node.url, privateKey: generatePrivateKey() },
    log: createLogger("strict", { level: "silent" }),
  });
  bare = await startGateway({
    ...common,
    databaseUrl: await createTestDatabase("gw_convos_signin_bare"),
    log: createLogger("bare", { level: "silent" }),
  });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(people.map((p) => p.close()));
  await bare?.close();
  await strict?.close();
  await gateway?.close();
  await node?.close();
  await xmtp?.release();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

describe("Sign in with Convos", () => {
  it("a Convos CLI person opens the page's invite, and the waiting page gets a session of exactly that person's inbox, once", {
    timeout: 90_000,
  }, async () => {
    const started = await sessions().startConvosSignIn({ origin: origin() });
    expect(started.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{10}$/);
    expect(started.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(started.inviteUrl).toMatch(/^https:\/\/popup\.convos\.org\/v2\?i=/);
    expect((await sessions().collectConvosSignIn({ code: started.code, secret: started.secret })).waiting).toBe(true);

    // What the Convos app does with the link: a join request DM to the sign-in inbox, from the person's own inbox.
    const joined = await runConvos<{
      status: string;
      inboxId: string;
      creatorInboxId: string;
      conversationName: string;
    }>(["conversations", "join", started.inviteUrl, "--no-wait", "--profile-name", "Saul"], join(dir, "saul"), {
      xmtpPort: xmtp!.port,
      timeoutMs: 60_000,
    });
    expect(joined.status).toBe("request_sent");
    expect(joined.creatorInboxId).toBe(started.signInInboxId);
    // The invite names the site that asked, which the app shows before it sends anything.
    expect(joined.conversationName).toBe(`Sign in to ${origin()}`);

    const session = await collected(started.code, started.secret);
    expect(session.inboxId).toBe(joined.inboxId);
    // The name the join request's profile gave: the page calls the person by it.
    expect(session.name).toBe("Saul");
    expect(session.token).toMatch(new RegExp(`^v2\\.${joined.inboxId}\\.`));
    // The token is a live session of that inbox: signing out with it works.
    await client(gateway!, { authorization: `Bearer ${session.token}` }).deleteSession({});

    const again = await failure(sessions().collectConvosSignIn({ code: started.code, secret: started.secret }));
    expect(again.code).toBe(Code.FailedPrecondition);
    expect(again.rawMessage).toMatch(/^code: already used/);
  });

  it("a code typed into a DM signs in its sender, and the pool's answer names the site that asked", {
    timeout: 60_000,
  }, async () => {
    const started = await sessions().startConvosSignIn({ origin: origin() });
    const person = await newPerson();
    const dm = await sendCode(person, started.signInInboxId, ` ${formatCode(started.code).toLowerCase()} `);
    const session = await collected(started.code, started.secret);
    expect(session.inboxId).toBe(person.inboxId);
    // A typed code gives no profile: no name.
    expect(session.name).toBe("");
    const answer = await answerIn(dm, started.signInInboxId);
    expect(answer).toContain(`You are signing in to ${origin()} with this Convos identity`);
    expect(answer).toContain(formatCode(started.code));
  });

  it("a code sent first by someone else signs them in, not the person who asked: the page names their inbox, and the latecomer is told", {
    timeout: 60_000,
  }, async () => {
    const started = await sessions().startConvosSignIn({ origin: origin() });
    const [thief, victim] = await Promise.all([newPerson(), newPerson()]);
    await sendCode(thief, started.signInInboxId, started.code);
    const session = await collected(started.code, started.secret);
    expect(session.inboxId).toBe(thief.inboxId);
    const late = await sendCode(victim, started.signInInboxId, started.code);
    expect(await answerIn(late, started.signInInboxId)).toMatch(/already sent from another Convos identity/);
  });

  it("without the browser's secret nobody collects, and a wrong secret is answered as an unknown code", {
    timeout: 60_000,
  }, async () => {
    const started = await sessions().startConvosSignIn({ origin: origin() });
    const person = await newPerson();
    await sendCode(person, started.signInInboxId, started.code);
    const otherSecret = randomBytes(32).toString("base64url");
    // The shoulder-surfer has the code and the inbox: not the secret.
    await waitFor(
      "the code to be sent",
      async () => {
        const e = await failure(sessions().collectConvosSignIn({ code: started.code, secret: otherSecret }));
        expect(e.code).toBe(Code.NotFound);
        expect(e.rawMessage).toBe("code: a sign-in with this code and secret not found");
        const mine = await sessions().collectConvosSignIn({ code: started.code, secret: started.secret });
        return !mine.waiting;
      },
      20_000,
    );
    const unknown = await failure(sessions().collectConvosSignIn({ code: "ZZZZZZZZZZ", secret: started.secret }));
    expect(unknown.code).toBe(Code.NotFound);
    const malformed = await failure(sessions().collectConvosSignIn({ code: "abc", secret: started.secret }));
    expect(malformed.code).toBe(Code.InvalidArgument);
    expect(malformed.rawMessage).toMatch(/^code: /);
    const noSecret = await failure(sessions().collectConvosSignIn({ code: started.code, secret: "" }));
    expect(noSecret.code).toBe(Code.InvalidArgument);
    expect(noSecret.rawMessage).toMatch(/^secret: /);
  });

  it("an expired code signs nobody in: the sender is told, and the page is refused", { timeout: 60_000 }, async () => {
    const started = await sessions().startConvosSignIn({ origin: origin() });
    // Five minutes on: the row's expiry moved into the past.
    await sql(`update convos_sign_ins set expires_at = now() - interval '1 second' where code = $1`, [started.code]);
    const person = await newPerson();
    const dm = await sendCode(person, started.signInInboxId, started.code);
    expect(await answerIn(dm, started.signInInboxId)).toMatch(/has expired/);
    const e = await failure(sessions().collectConvosSignIn({ code: started.code, secret: started.secret }));
    expect(e.code).toBe(Code.FailedPrecondition);
    expect(e.rawMessage).toMatch(/^code: expired at /);
  });

  it("a code is asked for only for this gateway's own origin, from a page at that origin", async () => {
    const elsewhere = await failure(sessions().startConvosSignIn({ origin: "https://look-alike.example" }));
    expect(elsewhere.code).toBe(Code.Unauthenticated);
    expect(elsewhere.rawMessage).toMatch(/^origin: the sign-in was made for https:\/\/look-alike\.example/);
    const fromPage = await failure(
      client(gateway!, { origin: "https://look-alike.example" }).startConvosSignIn({ origin: origin() }),
    );
    expect(fromPage.code).toBe(Code.Unauthenticated);
    const malformed = await failure(sessions().startConvosSignIn({ origin: `${origin()}/path` }));
    expect(malformed.code).toBe(Code.InvalidArgument);
  });

  it("an inbox that sends codes past its allowance is ignored, a right code included: guessing costs the guesser", {
    timeout: 60_000,
  }, async () => {
    const strictSessions = client(strict!);
    const started = await strictSessions.startConvosSignIn({ origin: new URL(strict!.url).origin });
    const guesser = await newPerson();
    const dm = await sendCode(guesser, started.signInInboxId, "AAAAA-AAAAA");
    await dm.sendText("BBBBB-BBBBB");
    await waitFor(
      "two answers",
      async () => {
        await dm.sync();
        return (await dm.messages()).filter((m) => m.senderInboxId === started.signInInboxId).length === 2;
      },
      20_000,
    );
    // The third code, the right one, comes over the allowance: nobody is signed in, and no answer comes.
    await dm.sendText(started.code);
    const honest = await newPerson();
    const other = await sendCode(honest, started.signInInboxId, "CCCCC-CCCCC");
    await answerIn(other, started.signInInboxId);
    expect((await strictSessions.collectConvosSignIn({ code: started.code, secret: started.secret })).waiting).toBe(
      true,
    );
    await dm.sync();
    expect((await dm.messages()).filter((m) => m.senderInboxId === started.signInInboxId)).toHaveLength(2);
  });

  it("a gateway without a sign-in inbox says so: wallets still sign in", async () => {
    const e = await failure(client(bare!).startConvosSignIn({ origin: new URL(bare!.url).origin }));
    expect(e.code).toBe(Code.Unavailable);
    expect(e.rawMessage).toBe(NO_SIGN_IN_INBOX);
  });
});
