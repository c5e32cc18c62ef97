// The rules every ask of a phone is held to (acts.ts), with the phone played
// here: what is sent into the conversation is decoded as the Convos apps
// decode it, and answered with each status the protocol lists.
import {
  CapabilityRequestCodec,
  ConnectionInvocationCodec,
  type ConnectionInvocation,
  type InvocationStatus,
} from "@convos-pool/convos";
import { createLogger } from "@convos-pool/kit/server";
import { describe, expect, it } from "vitest";
import { ASK_ACCESS, type Declared, MAX_PHONE_CALLS_PER_TURN, PhoneActs, type PhoneTurn } from "./acts.js";
import { PhoneShares } from "./shares.js";

const ANA = "ana-inbox";
const BEA = "bea-inbox";
const BOT = "other-agent-inbox";
const SELF = "agent-inbox";
const EVENT = {
  title: "Flight TP 1234",
  start: "2026-05-01T15:00:00+01:00",
  end: "2026-05-01T17:00:00+01:00",
  time_zone: "Europe/Lisbon",
};
const invocations = new ConnectionInvocationCodec();
const requests = new CapabilityRequestCodec();

/** A conversation with one agent's phone acts, and phones that answer with `status`. */
function world(opts: { declared?: Declared[]; status?: InvocationStatus; answerMs?: number; retryMs?: number } = {}) {
  const shares = new PhoneShares();
  const sent: ConnectionInvocation[] = [];
  const said: string[] = [];
  let status = opts.status ?? "success";
  const answering = { by: ANA as string | undefined };
  /** Who is in the conversation: the agent and Ana unless a test says otherwise; none readable when undefined. */
  const here: { members: string[] | undefined; agents: string[] } = { members: [SELF, ANA], agents: [] };
  const acts: PhoneActs = new PhoneActs({
    shares,
    declared: () => opts.declared ?? [{ kind: "calendar", capabilities: ["read", "write_create", "write_delete"] }],
    send: async (content) => {
      const type = (content as { type: { typeId: string } }).type.typeId;
      if (type === "capability_request") {
        const r = requests.decode(content);
        setImmediate(() =>
          acts.answered(ANA, {
            version: 1,
            requestId: r.requestId,
            status: "approved",
            subject: r.subject,
            capability: r.capability,
            providers: ["device.calendar"],
            availableActions: [],
          }),
        );
        return "m";
      }
      const inv = invocations.decode(content);
      sent.push(inv);
      const by = answering.by;
      if (by)
        setImmediate(() =>
          acts.answered(by, {
            id: "R",
            schemaVersion: 1,
            invocationId: inv.invocationId,
            kind: inv.kind,
            actionName: inv.action.name,
            status,
            result: status === "success" ? { eventId: { type: "string", value: "evt-1" } } : {},
            completedAt: 0,
          }),
        );
      return "m";
    },
    say: async (text) => said.push(text),
    self: () => SELF,
    here: async () => {
      if (!here.members) throw new Error("the group could not be synced");
      return { members: here.members, agents: here.agents };
    },
    log: createLogger("test", { level: "silent" }),
    answerMs: opts.answerMs ?? 2_000,
    retryMs: opts.retryMs ?? 50,
  });
  const turn = (text: string, requester = ANA, extra: Partial<PhoneTurn> = {}): PhoneTurn => ({
    requester,
    name: requester === ANA ? "Ana" : "Bea",
    text,
    person: true,
    ...extra,
  });
  const calendarFrom = (who: string) =>
    shares.receive(
      who,
      { id: "P", schemaVersion: 1, source: "calendar", capturedAt: 0, body: { type: "calendar", data: {} } },
      new Date(),
    );
  return {
    acts,
    shares,
    here,
    sent,
    said,
    turn,
    calendarFrom,
    setStatus: (s: InvocationStatus) => (status = s),
    answering,
  };
}

describe("a write to a phone", () => {
  it("goes to the conversation as Convos' invocation, on the person's own request, and reads the answer", async () => {
    const w = world();
    const out = await w.acts.call("add_calendar_event", EVENT, w.turn("add the flight to my calendar"));
    expect(out).toEqual({ ok: true, result: "done on Ana's phone (eventId: evt-1)" });
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0]).toMatchObject({
      schemaVersion: 1,
      kind: "calendar",
      action: { name: "create_event", arguments: { title: { type: "string", value: "Flight TP 1234" } } },
    });
    expect(w.sent[0]!.id).toMatch(/^[0-9A-F-]{36}$/);
  });

  it("is not sent when the person's message did not ask for it (the model's word alone, or someone else's)", async () => {
    const w = world();
    const out = await w.acts.call("add_calendar_event", EVENT, w.turn("what is the weather in Lisbon?"));
    expect(out).toMatchObject({ ok: false, error: expect.stringMatching(/only when their own message asks me to/) });
    expect(w.sent).toHaveLength(0);
  });

  it("is not sent from a turn that is no person's, nor for a kind or write its template does not declare", async () => {
    const w = world({ declared: [{ kind: "calendar", capabilities: ["read"] }] });
    expect((await w.acts.call("add_calendar_event", EVENT, w.turn("add it to my calendar"))).ok).toBe(false);
    const x = world();
    expect(
      (await x.acts.call("add_calendar_event", EVENT, x.turn("add it to my calendar", ANA, { person: false }))).ok,
    ).toBe(false);
    expect((await x.acts.call("add_contact", { given_name: "Rita" }, x.turn("save Rita as a contact"))).ok).toBe(false);
    expect([...w.sent, ...x.sent]).toHaveLength(0);
    expect(w.acts.functions().map((f) => f.name)).toEqual([ASK_ACCESS]);
  });

  it("is not sent while another person is in the conversation, though their phone never shared anything: Convos sends it to every phone with the capability on", async () => {
    const w = world();
    w.here.members = [SELF, ANA, BEA];
    const out = await w.acts.call("add_calendar_event", EVENT, w.turn("add the flight to my calendar"));
    expect(out).toMatchObject({
      ok: false,
      error: expect.stringMatching(/has Calendar → Create on, and I cannot tell that only Ana's would get it/),
    });
    // Nor when her phone shares it too, nor in Bea's turn for her own phone.
    w.calendarFrom(BEA);
    expect((await w.acts.call("add_calendar_event", EVENT, w.turn("add the flight to my calendar", BEA))).ok).toBe(
      false,
    );
    expect(w.sent).toHaveLength(0);
  });

  it("goes where its requester is the only person besides agents; a member whose profile says agent but whose phone spoke here is a person", async () => {
    const w = world();
    w.here.members = [SELF, ANA, BOT];
    w.here.agents = [BOT];
    expect((await w.acts.call("add_calendar_event", EVENT, w.turn("add the flight to my calendar"))).ok).toBe(true);
    w.shares.heardFrom(BOT, "capability_request_result", new Date());
    expect((await w.acts.call("add_calendar_event", EVENT, w.turn("add the flight to my calendar"))).ok).toBe(false);
    expect(w.sent).toHaveLength(1);
  });

  it("is not sent when who is in the conversation cannot be read", async () => {
    const w = world();
    w.here.members = undefined;
    expect((await w.acts.call("add_calendar_event", EVENT, w.turn("add the flight to my calendar"))).ok).toBe(false);
    expect(w.sent).toHaveLength(0);
  });

  it("a write asked again later is not sent once someone else joined meanwhile", async () => {
    const w = world({ status: "requires_confirmation", retryMs: 50 });
    expect((await w.acts.call("add_calendar_event", EVENT, w.turn("add the flight to my calendar"))).ok).toBe(false);
    w.here.members = [SELF, ANA, BEA];
    // The retry comes retryMs later; it has run once it says why it did not ask.
    await expect
      .poll(() => w.said.at(-1))
      .toBe("Ana, I did not ask your phone again: someone else is in this conversation now.");
    expect(w.sent).toHaveLength(1);
  });

  it("does not take an answer from a phone it did not ask", async () => {
    // Bea's answer comes at once (setImmediate), well inside the 100 ms Ana's phone is given.
    const w = world({ answerMs: 100 });
    w.answering.by = BEA;
    const out = await w.acts.call("add_calendar_event", EVENT, w.turn("add the flight to my calendar"));
    expect(out).toEqual({ ok: false, error: "no answer from Ana's phone yet; Convos may be closed there" });
  });

  it("capability not enabled: the person is told once, naming it, and their phone is not asked again until it shares that kind", async () => {
    const w = world({ status: "capability_not_enabled" });
    const first = await w.acts.call("add_calendar_event", EVENT, w.turn("add the flight to my calendar"));
    expect(first.ok).toBe(false);
    expect(w.said).toEqual([expect.stringMatching(/^Ana, to do that I need Calendar → Create turned on/)]);
    const again = await w.acts.call("add_calendar_event", EVENT, w.turn("please add the flight to my calendar"));
    expect(again).toMatchObject({ ok: false, error: expect.stringMatching(/I wait until they turn it on/) });
    expect(w.sent).toHaveLength(1);
    expect(w.said).toHaveLength(1);
    // Their phone shares its calendar: they may have turned it on.
    w.calendarFrom(ANA);
    w.acts.heard(ANA, "calendar");
    w.setStatus("success");
    expect((await w.acts.call("add_calendar_event", EVENT, w.turn("add the flight to my calendar"))).ok).toBe(true);
    expect(w.sent).toHaveLength(2);
  });

  it("requires confirmation: asked once more later, and the outcome said", async () => {
    const w = world({ status: "requires_confirmation", retryMs: 50 });
    const out = await w.acts.call("add_calendar_event", EVENT, w.turn("add the flight to my calendar"));
    expect(out).toMatchObject({ ok: false, error: expect.stringMatching(/must confirm it in Convos/) });
    w.setStatus("success");
    await expect.poll(() => w.said.at(-1)).toBe("Ana, done on your phone now.");
    expect(w.sent).toHaveLength(2);
  });

  it("not after the turn was stopped, and at most a few in one turn", async () => {
    const w = world();
    const stop = new AbortController();
    stop.abort("Bea");
    expect(
      await w.acts.call(
        "add_calendar_event",
        EVENT,
        w.turn("add the flight to my calendar", ANA, { stop: stop.signal }),
      ),
    ).toEqual({ ok: false, error: "not done: Bea asked me to stop" });
    const turn = w.turn("add the flight to my calendar");
    for (let i = 0; i < MAX_PHONE_CALLS_PER_TURN; i++) await w.acts.call("add_calendar_event", EVENT, turn);
    expect((await w.acts.call("add_calendar_event", EVENT, turn)).ok).toBe(false);
    expect(w.sent).toHaveLength(MAX_PHONE_CALLS_PER_TURN);
  });
});

describe("a request for a capability", () => {
  it("is Convos' capability request, naming its asker, answered by the person's picker; not asked again at once", async () => {
    const w = world();
    const raw = { kind: "calendar", capability: "write_create", reason: "To put your flights in your calendar" };
    expect(await w.acts.call(ASK_ACCESS, raw, w.turn("plan my trip"))).toEqual({
      ok: true,
      result: "Ana let me use their Calendar (Create) here",
    });
    expect((await w.acts.call(ASK_ACCESS, raw, w.turn("plan my trip"))).ok).toBe(false);
    expect((await w.acts.call(ASK_ACCESS, { ...raw, kind: "health" }, w.turn("plan my trip"))).ok).toBe(false);
  });
});
