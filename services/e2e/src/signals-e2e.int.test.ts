// How each version does, end to end (docs/signals.md): what people do in
// Convos conversations reaches the template's creator as counts only. A
// creator publishes a template and then a second version; owners each add
// agents of it to conversations they created (Oda two, Pia, Quinn, and Saul
// through the real Convos CLI serving his), five on the first version and
// two on the second, and the creator one of their own. People as the
// Convos apps show them (@convos-pool/convos/person) join each by its
// invite, talk to the agent, react 👍 and 👎 to its answers and correct
// it. The host sends each agent's signed day on its own timer, and the
// creator, signed in to the gateway, reads GetVersionSignals: the first
// version's figures are what the people did, each owner once; the second's
// are not shown (two conversations); the creator's own agent is only in
// `own_days`. CompareVersions says the same per 100 answers, with what the
// pool recorded of the agents; an owner reads only others' figures, a
// person of a conversation nothing. Ratings from the creator, from a person who
// owns no agent of it and from owners of minutes are refused. Every byte
// the host sent was recorded on its way (a
// pass-through in front of lineage): no text, member, conversation or name
// of the people's is in it. Reports for these agents signed by a person's
// or an owner's wallet are refused, and change nothing.
// Real: PostgreSQL, the local XMTP node, the templates, claims and lineage
// services, the gateway, the instance host (offline model), the Convos CLI,
// @xmtp/node-sdk clients for the owners and people. The template service's
// relay brings the second version to the claims service; the first
// version's agents are pinned by their owners (instruction sync itself:
// sync-e2e.int.test.ts).
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fromBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ReportSignalsRequestSchema,
  VersionSignalInsightsService,
  VersionSignalService,
  type GetVersionSignalsResponse,
} from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { TemplateRatingService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { as } from "@convos-pool/claims/testing";
import { XmtpInboxResolver } from "@convos-pool/convos";
import { Person, type Said } from "@convos-pool/convos/person";
import { startCreator } from "@convos-pool/convos/testing";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { contentToJson } from "@convos-pool/kit/content";
import { createLogger, createServiceClient, type ServiceClient } from "@convos-pool/kit/server";
import { signInJson, signOperation, signSignIn, signVersionSignals } from "@convos-pool/kit/signing";
import { sampleContent, signedContentUpdate, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { closeWithin, createTestDatabase, waitFor } from "@convos-pool/testing";
import { RealStack } from "./real-stack.js";
import { SignalsRecorder } from "./signals-recorder.js";

const AGENT = "Concierge";
/** Every agent sends its day this often: soon after the people are done, the creator sees it. */
const SIGNALS_INTERVAL_MS = 2_000;

let stack: RealStack;
/** In front of lineage: the host's SIGNALS_URL. */
const recorder = new SignalsRecorder(() => stack.lineage!.url);

type Owner = TestIdentity & { name: string };
type Creator = Awaited<ReturnType<typeof startCreator>>;

/** What a person does in a conversation, in order: questions to the agent, then 👍/👎 on the answers asked for and corrections of them, then a last question. */
interface Script {
  name: string;
  questions: number;
  up?: number[];
  down?: number[];
  correct?: number[];
}

interface AgentConversation {
  label: string;
  owner: Owner;
  version: "first" | "second";
  scripts: Script[];
  /** Its conversation: id and invite. */
  conversationId: string;
  invite: string;
  agentId: string;
  agentInbox: string;
  people: Person[];
  /** Everything each person said (their texts, for the privacy check). */
  texts: string[];
  /** What the people did, and what the agent answered them, as they saw it. */
  did: { answers: number; people: number; thumbsUp: number; thumbsDown: number; corrections: number };
}

let creator: Creator;
const owners: Record<"oda" | "pia" | "quinn", Creator> = {} as never;
let saul: Owner;
let template: Template;
let gateway: RunningGateway;
let hostSc: ServiceClient<typeof VersionSignalService>;
const conversations: AgentConversation[] = [];
const versions = { first: "", second: "" };

const ownerOf = (c: Creator, name: string): Owner => ({ account: c.account, inboxId: c.inboxId, name });

/** A conversation its owner creates (a Convos client's SDK), or Saul's, which his Convos CLI serves; the owner's claim of an agent into it. */
async function claimedConversation(
  label: string,
  owner: Owner,
  version: AgentConversation["version"],
  scripts: Script[],
  conversation?: Creator,
): Promise<AgentConversation> {
  const { groupId, invite } = conversation
    ? await conversation.conversation(label)
    : { groupId: stack.ready.conversationId, invite: stack.ready.inviteUrl };
  await stack.idleAgents(1);
  const { instanceId } = await stack.claimsSc!.client.claim(
    { requester: owner.inboxId, templateId: template.id, conversationInvite: invite },
    as(owner),
  );
  const r: AgentConversation = {
    label,
    owner,
    version,
    scripts,
    conversationId: groupId,
    invite,
    agentId: instanceId,
    agentInbox: stack.host!.instances.get(instanceId)!.inboxId,
    people: [],
    texts: [],
    did: { answers: 0, people: 0, thumbsUp: 0, thumbsDown: 0, corrections: 0 },
  };
  conversations.push(r);
  return r;
}

/** The people of a conversation join by its invite, then do what their scripts say, one after another. */
async function play(r: AgentConversation): Promise<void> {
  for (const s of r.scripts)
    r.people.push(await Person.join(r.invite, { name: s.name, apiUrl: stack.node!.url, dir: stack.dir }));
  const answerIds = new Set<string>();
  for (const [i, s] of r.scripts.entries()) {
    const p = r.people[i]!;
    const say = async (text: string, send: () => ReturnType<Person["send"]>) => {
      r.texts.push(text);
      return send();
    };
    const ask = async (n: string): Promise<Said> => {
      const text = `${AGENT}, ${s.name} asks in ${r.label}: question ${n}`;
      const sent = await say(text, () => p.send(text));
      const heard = await p.heard(
        r.agentInbox,
        sent,
        new RegExp(`${s.name} asks in ${r.label}: question ${n}`),
        60_000,
      );
      answerIds.add(heard.id);
      return heard;
    };
    const answers: Said[] = [];
    for (let q = 1; q <= s.questions; q++) answers.push(await ask(String(q)));
    for (const a of s.up ?? []) await p.react(answers[a]!.id, r.agentInbox, "👍");
    for (const a of s.down ?? []) await p.react(answers[a]!.id, r.agentInbox, "👎");
    for (const a of s.correct ?? []) {
      const text = `no, ${s.name} meant the ${r.label} pier ${a}`;
      await say(text, () => p.reply(answers[a]!.id, text));
    }
    // Handled in order: once this is answered, every reaction and correction before it was taken in.
    await ask("last");
    r.did.people++;
    // Once per person, message and signal, however often it was sent.
    r.did.thumbsUp += new Set(s.up).size;
    r.did.thumbsDown += new Set(s.down).size;
    r.did.corrections += s.correct?.length ?? 0;
  }
  // Every text the agent said in the conversation once the people were in: its answers (a correction may have one too).
  const seen = new Set<string>();
  for (const p of r.people) for (const t of await p.texts()) if (t.senderInboxId === r.agentInbox) seen.add(t.id);
  for (const id of answerIds) expect(seen).toContain(id);
  r.did.answers = seen.size;
}

/**
 * What the creator should read for a version's day: each owner's conversations
 * averaged into one, summed over owners; `pinned` the share of owners whose
 * agents their owner pinned (the first version's all are).
 */
function expectedFigures(rs: readonly AgentConversation[]) {
  const byOwner = new Map<string, AgentConversation[]>();
  for (const r of rs) byOwner.set(r.owner.inboxId, [...(byOwner.get(r.owner.inboxId) ?? []), r]);
  const figures = { answers: 0, people: 0, thumbsUp: 0, thumbsDown: 0, corrections: 0, pinned: 0 };
  for (const own of byOwner.values()) {
    for (const f of ["answers", "people", "thumbsUp", "thumbsDown", "corrections"] as const)
      figures[f] += own.reduce((sum, r) => sum + r.did[f], 0) / own.length;
    figures.pinned += own.filter((r) => r.version === "first").length / own.length / byOwner.size;
  }
  return { agents: rs.length, owners: byOwner.size, figures };
}

/**
 * The creator's view: GetVersionSignals through the gateway (Connect), as
 * the creator signed in (a session bought with a signed sign-in). Where a
 * comparison of the versions is read the same way.
 */
let session: string | undefined;
async function creatorView(): Promise<GetVersionSignalsResponse> {
  session ??= await signIn();
  const rpc = createClient(
    VersionSignalInsightsService,
    createConnectTransport({ baseUrl: gateway.url, httpVersion: "1.1" }),
  );
  return rpc.getVersionSignals({ templateId: template.id }, { headers: { authorization: `Bearer ${session}` } });
}

/** `who` (the creator unless told otherwise) signs in to the gateway (POST /api/pool/sessions): the session's token. */
async function signIn(who: Pick<TestIdentity, "account" | "inboxId"> = creator): Promise<string> {
  const signIn = await signSignIn(who.account, who.inboxId, gateway.url);
  const res = await fetch(`${gateway.url}/api/pool/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(signInJson(signIn)),
  });
  const body = (await res.json()) as { token?: string };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.token!;
}

/** A day of the view, in the terms of expectedFigures (and `shown`). */
const dayOf = (d: GetVersionSignalsResponse["days"][number]) => ({
  version: d.version,
  agents: d.agents,
  owners: d.owners,
  shown: d.shown,
  figures: d.figures && {
    answers: d.figures.answers,
    people: d.figures.people,
    thumbsUp: d.figures.thumbsUp,
    thumbsDown: d.figures.thumbsDown,
    corrections: d.figures.corrections,
    pinned: d.figures.pinned,
  },
});

beforeAll(async () => {
  await recorder.start();
  stack = new RealStack({
    name: "signals-e2e",
    conversationName: "Harbour walk",
    host: { joinTimeoutMs: 15_000, signalsUrl: recorder.url, signalsIntervalMs: SIGNALS_INTERVAL_MS },
    // New versions reach the claims service as in production (its relay), and from it the agents not pinned.
    templatesSync: { intervalMs: 200, backoff: { initialMs: 200, maxMs: 1_000 } },
    claims: { pool: { target: 3 }, sync: { scanIntervalMs: 200 } },
  });
  await stack.start();
  const started = async (name: string) => {
    const dir = join(stack.dir, name);
    await mkdir(dir, { recursive: true });
    return startCreator(stack.node!.url, dir);
  };
  creator = await started("creator");
  [owners.oda, owners.pia, owners.quinn] = await Promise.all([started("oda"), started("pia"), started("quinn")]);
  saul = { ...(await stack.personOf()), name: "Saul" };
  const resolver = await XmtpInboxResolver.connect({ apiUrl: stack.node!.url });
  gateway = await startGateway({
    templatesUrl: stack.templates!.url,
    claimsUrl: stack.claims!.url,
    lineageUrl: stack.lineage!.url,
    credentials: stack.creds.gateway,
    resolver,
    databaseUrl: await createTestDatabase("signals_e2e_gateway"),
    log: createLogger("gateway", { level: "silent" }),
  });
  hostSc = createServiceClient(VersionSignalService, stack.lineage!.url, stack.creds["instance-host"]);
}, 240_000);

afterAll(async () => {
  // The people's and owners' clients first, a minute at most: one slow to close must not keep the stack's
  // processes running past this file (a busy CI run once saw the hook time out here, with no word of which).
  const clients: Record<string, () => Promise<unknown>> = {};
  for (const [i, r] of conversations.entries())
    for (const [j, p] of r.people.entries()) clients[`person ${i}.${j}`] = () => p.close();
  for (const [name, c] of Object.entries({ creator, ...owners })) if (c) clients[name] = () => c.close();
  await closeWithin(clients, 60_000);
  hostSc?.close();
  await gateway?.close();
  await stack?.close();
  await recorder.close();
}, 150_000);

describe("signals end to end: people in Convos conversations, the creator's figures", () => {
  it("the creator sees what people did with the version in five conversations, each owner once; nothing of the one in two; their own agent apart", {
    timeout: 300_000,
  }, async () => {
    const me = ownerOf(creator, "creator");
    template = await signedTemplate(
      stack.templatesSc!.client,
      me,
      sampleContent({ agent_name: AGENT, instructions: "You guide walks by the harbour.", tools: [] }),
    );
    const oda = ownerOf(owners.oda, "Oda");
    const pia = ownerOf(owners.pia, "Pia");
    const quinn = ownerOf(owners.quinn, "Quinn");
    // The first version: five conversations of four owners (Oda holds two), and one of the creator's own.
    const first = [
      await claimedConversation(
        "Oda's north",
        oda,
        "first",
        [{ name: "Ana Moreau", questions: 2, up: [0] }],
        owners.oda,
      ),
      await claimedConversation(
        "Oda's south",
        oda,
        "first",
        // Bob sends 👎 on his first answer three times: one person, one message, one count.
        [{ name: "Bob Okafor", questions: 3, down: [0, 0, 0], correct: [1] }],
        owners.oda,
      ),
      await claimedConversation(
        "Pia's deck",
        pia,
        "first",
        [
          { name: "Cleo Varga", questions: 1, up: [0] },
          { name: "Dan Ishida", questions: 1 },
        ],
        owners.pia,
      ),
      await claimedConversation(
        "Quinn's quay",
        quinn,
        "first",
        [{ name: "Eve Lindqvist", questions: 1, correct: [0] }],
        owners.quinn,
      ),
      await claimedConversation("Harbour walk", saul, "first", [
        { name: "Finn Ahlberg", questions: 2, up: [1], down: [0] },
      ]),
    ];
    const own = await claimedConversation(
      "Creator's own",
      me,
      "first",
      [{ name: "Gus Pereira", questions: 3, up: [0, 1], down: [2] }],
      creator,
    );
    versions.first = stack.host!.instances.get(own.agentId)!.configSnapshot!.templateVersion;
    // Their owners keep them on it; the second version, claimed in two conversations once the claims service has it.
    for (const r of conversations)
      await stack.claimsSc!.client.setInstancePin({ instanceId: r.agentId, pinned: true }, as(r.owner));
    template = await signedContentUpdate(stack.templatesSc!.client, me, template, {
      ...contentToJson(template.content!),
      instructions: "You guide walks by the harbour, and name the tide.",
    });
    await waitFor("the second version to reach the claims service", async () => {
      const { instance } = await stack.claimsSc!.client.getInstance({ instanceId: own.agentId }, as(me));
      return instance?.sync?.pendingVersion === template.contentVersion;
    });
    const second = [
      await claimedConversation(
        "Pia's stern",
        pia,
        "second",
        [{ name: "Hana Novak", questions: 1, up: [0] }],
        owners.pia,
      ),
      await claimedConversation(
        "Quinn's jetty",
        quinn,
        "second",
        [{ name: "Ivo Brandt", questions: 2, correct: [0] }],
        owners.quinn,
      ),
    ];
    // A claim may still get the version before for a moment (the claims service's template cache); sync then brings it forward.
    versions.second = template.contentVersion.toString();
    const runs = (r: AgentConversation) => stack.host!.instances.get(r.agentId)!.configSnapshot!.templateVersion;
    await waitFor("the second version's agents to run it", async () =>
      second.every((r) => runs(r) === versions.second),
    );
    expect(versions.second).not.toBe(versions.first);
    for (const r of conversations) expect(runs(r)).toBe(versions[r.version]);

    await Promise.all(conversations.map(play));

    const shown = expectedFigures(first);
    const hidden = expectedFigures(second);
    const mine = expectedFigures([own]);
    // Oda's two conversations weigh as one: her average, not their sum.
    expect(shown.owners).toBe(4);
    const day = new Date().toISOString().slice(0, 10);
    await expect
      .poll(
        async () => {
          const view = await creatorView();
          return {
            min: view.minConversations,
            days: view.days.filter((d) => d.day === day).map(dayOf),
            ownDays: view.ownDays.filter((d) => d.day === day).map(dayOf),
          };
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toEqual({
        min: 5,
        days: [
          { version: versions.first, shown: true, ...shown },
          { version: versions.second, shown: false, agents: hidden.agents, owners: hidden.owners, figures: undefined },
        ],
        ownDays: [{ version: versions.first, shown: false, agents: 1, owners: 1, figures: undefined }],
      });
    // The creator's own conversation did something: had it been counted with the others', the first version's figures would differ.
    expect(mine.figures.answers).toBeGreaterThan(0);
  });

  it("the creator's comparison through the gateway shows the same per 100 answers and what the pool recorded of the agents; an owner reads only others', a person of a conversation nothing", async () => {
    const compare = async (who: Pick<TestIdentity, "account" | "inboxId">) =>
      createClient(
        VersionSignalInsightsService,
        createConnectTransport({ baseUrl: gateway.url, httpVersion: "1.1" }),
      ).compareVersions(
        { templateId: template.id, versions: [versions.first, versions.second] },
        { headers: { authorization: `Bearer ${await signIn(who)}` } },
      );
    const shown = expectedFigures(
      conversations.filter((r) => r.version === "first" && r.owner.inboxId !== creator.inboxId),
    );
    const mine = await compare(creator);
    const [first, second] = mine.versions;
    expect(first).toMatchObject({ version: versions.first, daysRan: 1, daysShown: 1 });
    expect(first?.answers).toBeCloseTo(shown.figures.answers, 9);
    for (const f of ["people", "thumbsUp", "thumbsDown", "corrections"] as const)
      expect(first?.per100Answers?.[f]).toBeCloseTo((shown.figures[f] / shown.figures.answers) * 100, 9);
    // Two conversations: no figure of theirs, however asked.
    expect(second).toMatchObject({ version: versions.second, daysRan: 1, daysShown: 0, answers: 0 });
    expect(second?.per100Answers).toBeUndefined();
    // What the pool recorded: the seven agents of others, by the version each was claimed on (a claim made
    // as the update arrived may have been on the first), none removed or cloned; the creator's one apart.
    expect((first?.lifecycle?.claimed ?? 0) + (second?.lifecycle?.claimed ?? 0)).toBe(7);
    expect(first?.lifecycle).toMatchObject({ shown: true, removedWithin1Day: 0, removedWithin7Days: 0, clones: 0 });
    expect(second?.lifecycle?.shown).toBe(false);
    expect(mine.ownVersions.map((v) => [v.version, v.daysShown, v.lifecycle?.claimed])).toEqual([
      [versions.first, 0, 1],
      [versions.second, 0, 0],
    ]);
    // Pia owns agents of it: what everyone is shown, never the creator's own.
    const pia = await compare(owners.pia);
    expect(pia.versions).toEqual(mine.versions);
    expect(pia.ownVersions).toEqual([]);
    // A person of a conversation owns nothing of it: as if the template did not exist.
    const person = conversations[0]!.people[0]!;
    expect(
      await compare(person).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e).code,
      ),
    ).toBe(Code.NotFound);
  });

  it("ratings: the creator, a person of a conversation who owns no agent of it, and an owner of less than a day are refused, and nothing is kept", async () => {
    const rpc = createClient(
      TemplateRatingService,
      createConnectTransport({ baseUrl: gateway.url, httpVersion: "1.1" }),
    );
    const rate = async (who: Pick<TestIdentity, "account" | "inboxId">) => {
      const signature = await signOperation(who.account, "RateTemplate", {
        inboxId: who.inboxId,
        templateId: template.id,
        stars: 5,
        review: "Great walks.",
      });
      return rpc
        .rateTemplate(
          { templateId: template.id, raterId: who.inboxId, stars: 5, review: "Great walks.", signature },
          { headers: { authorization: `Bearer ${await signIn(who)}` } },
        )
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
    };
    const person = conversations[0]!.people[0]!;
    for (const [who, code] of [
      [creator, Code.PermissionDenied],
      [person, Code.PermissionDenied],
      [owners.pia, Code.FailedPrecondition],
      [saul, Code.FailedPrecondition],
    ] as const) {
      const err = await rate(who);
      expect(err?.code).toBe(code);
      expect(err?.rawMessage).toMatch(/^rater_id: /);
    }
    const { reviews } = await rpc.listReviews({ templateId: template.id });
    expect(reviews).toEqual([]);
  });

  it("nothing the people said, nor who they are, nor which conversation, left the host, in any field or encoding; lineage kept one row of each agent's day", async () => {
    // The hosts send each agent's day so far at every pass: wait for a day sent twice.
    const sent = () => recorder.requests.filter((r) => r.path.endsWith("/ReportSignals"));
    await expect.poll(() => sent().length, { timeout: 20_000, interval: 500 }).toBeGreaterThan(conversations.length);
    const reports = sent();
    expect(recorder.requests.length).toBe(reports.length);
    const decoded = reports.map((r) => fromBinary(ReportSignalsRequestSchema, r.body));
    // Every agent's day went through here, in the agent's words: its id and inbox are in it (the search finds what is there).
    for (const r of conversations) {
      expect(decoded.some((d) => d.instanceId === r.agentId && d.inboxId === r.agentInbox)).toBe(true);
      expect(reports.some((x) => x.body.includes(Buffer.from(r.agentInbox)))).toBe(true);
    }
    const secrets: { what: string; forms: Buffer[] }[] = [];
    // Each as UTF-8, base64 and hex (hex only of what is long enough never to turn up by chance in a hex field).
    const asText = (what: string, s: string) => {
      const utf8 = Buffer.from(s);
      const forms = [utf8, Buffer.from(utf8.toString("base64"))];
      if (s.length >= 8) forms.push(Buffer.from(utf8.toString("hex")));
      secrets.push({ what, forms });
    };
    const asHexId = (what: string, id: string) => {
      const raw = Buffer.from(id, "hex");
      secrets.push({
        what,
        forms: [
          Buffer.from(id),
          Buffer.from(id.toUpperCase()),
          raw,
          Buffer.from(raw.toString("base64")),
          Buffer.from(raw.toString("base64url")),
        ],
      });
    };
    for (const r of conversations) {
      for (const t of r.texts) asText(`a text said in ${r.label}`, t);
      for (const p of r.people) {
        asText(`${p.name}'s name`, p.name);
        asHexId(`${p.name}'s inbox`, p.inboxId);
        asText(`${p.name}'s wallet`, p.account.address.toLowerCase());
      }
      asHexId(`${r.label}'s conversation id`, r.conversationId);
      asText(`${r.label}'s name`, r.label);
      asHexId(`${r.owner.name}'s inbox`, r.owner.inboxId);
    }
    const stored = new pg.Client({ connectionString: stack.lineageDatabaseUrl });
    await stored.connect();
    let table: Record<string, unknown>[];
    try {
      table = (await stored.query("select * from version_signals")).rows;
    } finally {
      await stored.end();
    }
    // Each agent sent its day more than once (the day so far), and lineage keeps one row of it: the latest.
    expect(reports.length).toBeGreaterThan(conversations.length);
    expect(table.map((row) => row.instance_id).sort()).toEqual(conversations.map((r) => r.agentId).sort());
    const rows = JSON.stringify(table);
    const found: string[] = [];
    for (const [i, r] of reports.entries()) {
      const json = Buffer.from(toJsonString(ReportSignalsRequestSchema, decoded[i]!));
      for (const s of secrets)
        if (s.forms.some((f) => r.body.includes(f) || json.includes(f))) found.push(`${s.what} in a report`);
    }
    for (const s of secrets) if (s.forms.some((f) => rows.includes(f.toString()))) found.push(`${s.what} in lineage`);
    expect([...new Set(found)]).toEqual([]);
  });

  it("a report for one of these agents signed by a person's or its owner's wallet is refused, and the figures stay", {
    timeout: 60_000,
  }, async () => {
    const before = await creatorView();
    const day = new Date().toISOString().slice(0, 10);
    const counts = {
      answers: 500,
      people: 50,
      thumbsUp: 500,
      thumbsDown: 0,
      corrections: 0,
      forgetRequests: 0,
      approvalsAsked: 0,
      approvalsDeclined: 0,
      toolCallsFailed: 0,
      pauses: 0,
      stopRequests: 0,
    };
    /** A day of `r`'s agent (or of `inboxId`), signed by `signer`, sent with the host's credential: its refusal's code. */
    const refused = async (
      r: AgentConversation,
      signer: { account: Person["account"] | TestIdentity["account"] },
      inboxId = r.agentInbox,
    ) => {
      const forged = {
        instanceId: r.agentId,
        inboxId,
        templateId: template.id,
        version: versions[r.version],
        day,
        counts,
      };
      const err = await hostSc.client
        .reportSignals({ ...forged, agentSignature: await signVersionSignals(signer.account, forged) })
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      return err?.code;
    };
    // In Oda's conversation and in Saul's (his wallet is the Convos CLI's own): a person of the conversation, naming the agent
    // or themselves; the agent's owner the same.
    for (const r of [conversations[0]!, conversations.find((x) => x.owner === saul)!]) {
      const person = r.people[0]!;
      expect(await refused(r, person)).toBe(Code.PermissionDenied);
      expect(await refused(r, person, person.inboxId)).toBe(Code.PermissionDenied);
      expect(await refused(r, r.owner)).toBe(Code.PermissionDenied);
      expect(await refused(r, r.owner, r.owner.inboxId)).toBe(Code.PermissionDenied);
    }
    const after = await creatorView();
    expect(after.days.map(dayOf)).toEqual(before.days.map(dayOf));
    expect(after.ownDays.map(dayOf)).toEqual(before.ownDays.map(dayOf));
  });
});
