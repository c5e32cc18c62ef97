// A scheduled text and a scheduled mail carried out through the real local
// providers: the Telnyx stand-in (its phones record what they receive) and
// the local SMTP server over real maildirs, reached by the agent's real
// Telnyx and mail clients, the real gate with its activity log, the real
// firing (firing-run.ts) and schedules.json on a real workspace. Stand-ins:
// the conversation's group, which records what is posted, and the crash:
// the host dies after the gate sent and before the firing was kept done,
// played by throwing once the gate has answered, then starting the agent's
// schedules again from disk. What must hold: each firing sends the words
// kept when the owner asked, and the retry sends nothing more, since the
// provider is told the firing id (a text's Idempotency-Key, a mail's
// Message-ID).
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { resolvePermissions } from "@convos-pool/kit/content";
import { createLogger } from "@convos-pool/kit/server";
import {
  type LocalAgentMail,
  type LocalSms,
  Maildirs,
  type RunningMail,
  startLocalAgentMail,
  startLocalMail,
  startLocalSms,
} from "@convos-pool/local-providers";
import { Workspace } from "../../platform/workspace.js";
import type { AgentGroup } from "../../platform/xmtp.js";
import { AgentTools } from "../functions/agent-tools.js";
import { ActivityLog } from "../gate/activity.js";
import { AskLog } from "../gate/asks.js";
import { ToolGate } from "../gate/gate.js";
import { MoneyLedger } from "../gate/ledger.js";
import { TelnyxClient } from "../providers/telnyx.js";
import type { Firing } from "./firing.js";
import { type FiringParts, runFiring } from "./firing-run.js";
import type { BoundScheduledAct } from "./policy.js";
import { Scheduling } from "./scheduling.js";

const log = createLogger("firing-send-test", { level: "error" });
const OWNER = "a".repeat(64);
const AGENT_NUMBER = "+15550100042";
const ANA_PHONE = "+15550188031";
const BOB = "bob@x.test";

let dir: string;
let sms: LocalSms;
let mail: RunningMail;
let mailboxes: Maildirs;
let mailbox: { address: string; password: string };
let telnyx: TelnyxClient;
let agentmail: LocalAgentMail;
/** The agent's inbox at the AgentMail stand-in, and its inbox-scoped key. */
let inbox: { id: string; key: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "firing-send-"));
  mailboxes = new Maildirs(join(dir, "mailboxes"));
  mail = await startLocalMail({ mailboxes });
  sms = await startLocalSms();
  agentmail = await startLocalAgentMail();
  const asOrg = (path: string, body: unknown) =>
    fetch(`${agentmail.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${agentmail.apiKey}` },
      body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<Record<string, string>>);
  const id = (await asOrg("/v0/inboxes", {})).inbox_id ?? "";
  inbox = { id, key: (await asOrg(`/v0/inboxes/${encodeURIComponent(id)}/api-keys`, { name: "agent" })).api_key ?? "" };
  mailbox = await mailboxes.create("inst_firing");
  telnyx = new TelnyxClient({ baseUrl: sms.url, apiKey: sms.apiKey });
  await telnyx.assignNumber(
    AGENT_NUMBER,
    await telnyx.ensureMessagingProfile("firing-test", "http://127.0.0.1:9/unused"),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([sms?.close(), mail?.close(), agentmail?.close()]);
  await rm(dir, { recursive: true, force: true });
});

/** The agent's schedules, opened from its workspace as a host starting it does, over the real gate and providers. */
async function agent(ws: Workspace, crashAfterGate: boolean, mailAt: "smtp" | "agentmail") {
  const tools = new AgentTools(
    {
      mail: { smtpUrl: mail.url, pop3Url: "pop3://127.0.0.1:9" },
      agentmail: { apiUrl: agentmail.url },
      sms: { client: telnyx },
    },
    [
      { toolId: "sms", handle: AGENT_NUMBER },
      { toolId: "email", handle: mailAt === "smtp" ? mailbox.address : inbox.id },
    ],
    { email: mailAt === "smtp" ? { password: mailbox.password } : { api_key: inbox.key } },
    {},
    log,
  );
  const activity = await ActivityLog.open(ws);
  const ledger = await MoneyLedger.open(ws);
  const asks = await AskLog.open(ws);
  const gate = new ToolGate({
    tools: () => tools,
    trust: () => ({
      level: TrustLevel.OPERATOR,
      dailySpendLimitWei: "0",
      setAt: new Date().toISOString(),
      byOwner: true,
    }),
    permissions: () => resolvePermissions(undefined),
    activity: () => activity,
    ledger: () => ledger,
    asks: () => asks,
    ask: async () => "no",
    log,
  });
  const posted: string[] = [];
  const group = {
    id: "g1",
    async send(content: { content: Uint8Array }) {
      posted.push(new TextDecoder().decode(content.content));
      return `m${posted.length}`;
    },
  } as unknown as AgentGroup;
  const parts: FiringParts = {
    id: "inst-1",
    scheduling: new Scheduling("inst-1", undefined, ws, { now: () => Date.now() }),
    settings: { config: { ownerId: OWNER } },
    conversations: { get: (id) => (id === "g1" ? { group, names: { [OWNER]: "Olga" } } : undefined) },
    within: (_id, job) => job(),
    toolbox: {
      call: async (name, args, who) => {
        const done = await gate.call(name, args, who);
        if (crashAfterGate) throw new Error("the host died after it sent");
        return done;
      },
    },
    log,
    routine: async () => undefined,
  };
  return { parts, posted };
}

/** Fired once with a crash after the send, then again from disk: what the second run posted. */
async function firedTwice(
  name: string,
  item: string,
  act: BoundScheduledAct,
  mailAt: "smtp" | "agentmail" = "smtp",
): Promise<string[]> {
  const ws = new Workspace(join(dir, name), "inst-1");
  await ws.create();
  await (await new Scheduling("inst-1", undefined, ws, { now: Date.now }).store()).keepAct(item, "g1", act);
  const f: Firing = {
    firingId: `${item}@2027-01-01T17:00:00Z`,
    item: { id: item, kind: "act", text: "whatever the pool says", conversationId: "g1", askedBy: OWNER },
  };
  await expect(runFiring((await agent(ws, true, mailAt)).parts, f)).rejects.toThrow(/the host died/);
  const again = await agent(ws, false, mailAt);
  expect(await runFiring(again.parts, f)).toBe(false);
  expect(await runFiring(again.parts, f)).toBe(true);
  return again.posted;
}

describe("a scheduled text or mail through the local providers", () => {
  it("texts Ana the kept words once when its firing is tried again after a crash between the send and the firing kept done", async () => {
    const posted = await firedTwice("text", "sch_00000000000000000000000a", {
      act: "text",
      toolId: "sms",
      target: ANA_PHONE,
      amountWei: "0",
      name: "Ana",
      words: "dinner is at 8",
    });
    await sms.phone(ANA_PHONE).waitForMessage((t) => t.text === "dinner is at 8");
    // Time for a second text to land, were one sent.
    await new Promise((r) => setTimeout(r, 300));
    expect(
      sms
        .phone(ANA_PHONE)
        .messages()
        .map((t) => [t.from, t.text]),
    ).toEqual([[AGENT_NUMBER, "dinner is at 8"]]);
    expect(posted).toEqual([`As you asked, on schedule: text Ana (${ANA_PHONE}): “dinner is at 8”.`]);
  }, 60_000);

  it("mails Bob the kept words once when its firing is tried again after a crash between the send and the firing kept done", async () => {
    await firedTwice("mail", "sch_00000000000000000000000b", {
      act: "mail",
      toolId: "email",
      target: BOB,
      amountWei: "0",
      words: "rent is due",
    });
    const box = join(mailboxes.dir(BOB), "new");
    const files = await readdir(box);
    expect(files).toHaveLength(1);
    const message = await readFile(join(box, files[0] ?? ""), "utf8");
    expect(message).toMatch(/^Subject: rent is due$/m);
    expect(message).toMatch(/^Message-ID:\s*<firing\.sch_00000000000000000000000b\.2027-01-01T17\.00\.00Z@/im);
  }, 60_000);

  it("mails the kept words once through AgentMail, the firing id its Idempotency-Key, when the firing is tried again after a crash", async () => {
    await firedTwice(
      "agentmail",
      "sch_00000000000000000000000c",
      { act: "mail", toolId: "email", target: "carol@x.test", amountWei: "0", words: "rent is due" },
      "agentmail",
    );
    expect(agentmail.outbox("carol@x.test").map((m) => [m.subject, m.text])).toEqual([["rent is due", "rent is due"]]);
  }, 60_000);
});
