// The rules of routing (policy.ts), in memory: a text from a number goes to
// the conversation that last texted it within 30 days, a mail to its
// thread's, anything else to the home; the lists stay capped. The store
// (store.ts) on a real workspace in a temporary folder.
import { fc, test } from "@fast-check/vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Workspace } from "../../platform/workspace.js";
import { RouteStore } from "./store.js";
import {
  MAX_MAIL_ROUTES,
  MAX_TEXT_ROUTES,
  NO_ROUTES,
  TEXT_ROUTE_DAYS,
  parseRoutes,
  recordMail,
  recordText,
  routeMail,
  routeText,
  type ToolRoutes,
} from "./policy.js";

const HOME = "home";
const DAY = 24 * 60 * 60_000;
const number = fc.constantFrom("+15550100001", "+15550100002", "+15550100003", "+447700900001");
const conversation = fc.constantFrom("a1", "b2", "c3");
const sends = fc.array(fc.record({ number, conversation, gap: fc.integer({ min: 0, max: 10 * DAY }) }), {
  maxLength: 30,
});

describe("a text from outside", () => {
  test.prop([sends, number, fc.integer({ min: 0, max: 60 * DAY })])(
    "goes to the one conversation that texted its number within 30 days, to the owner alone when several did, otherwise the home",
    (list, from, after) => {
      let routes: ToolRoutes = NO_ROUTES;
      let at = 0;
      const last = new Map<string, number>();
      for (const s of list) {
        at += s.gap;
        routes = recordText(routes, s.number, s.conversation, at);
        if (s.number === from) last.set(s.conversation, at);
      }
      const now = at + after;
      const texted = [...last].filter(([, t]) => now - t <= TEXT_ROUTE_DAYS * DAY).map(([c]) => c);
      const expected = texted.length > 1 ? { ownerOnly: true } : { conversation: texted[0] ?? HOME };
      expect(routeText(routes, HOME, from, now)).toEqual(expected);
    },
  );

  it("one text from another conversation does not move a number's replies there: they go to the owner alone", () => {
    // Texted from A for months, then once from B: the spouse's next text may answer either.
    let routes: ToolRoutes = NO_ROUTES;
    for (let day = 0; day < 90; day += 3) routes = recordText(routes, "+15550100001", "a1", day * DAY);
    routes = recordText(routes, "+15550100001", "b2", 90 * DAY);
    expect(routeText(routes, HOME, "+15550100001", 90 * DAY + 60_000)).toEqual({ ownerOnly: true });
    // Once B's text is 30 days old, the number is A's again.
    routes = recordText(routes, "+15550100001", "a1", 110 * DAY);
    expect(routeText(routes, HOME, "+15550100001", 120 * DAY + 1)).toEqual({ conversation: "a1" });
  });

  it("expires after 30 days: then it goes to the home", () => {
    const routes = recordText(NO_ROUTES, "+15550100001", "b2", 0);
    expect(routeText(routes, HOME, "+15550100001", 30 * DAY)).toEqual({ conversation: "b2" });
    expect(routeText(routes, HOME, "+15550100001", 30 * DAY + 1)).toEqual({ conversation: HOME });
    expect(routeText(routes, HOME, "+15550100002", 0)).toEqual({ conversation: HOME });
  });

  test.prop([fc.integer({ min: 0, max: 3 * MAX_TEXT_ROUTES })], { numRuns: 5 })(
    "keeps at most MAX_TEXT_ROUTES numbers, dropping the oldest",
    (n) => {
      let routes: ToolRoutes = NO_ROUTES;
      for (let i = 0; i < n; i++) routes = recordText(routes, `+1555${String(i).padStart(7, "0")}`, "b2", i);
      expect(routes.texts.length).toBe(Math.min(n, MAX_TEXT_ROUTES));
      if (n > 0)
        expect(routeText(routes, HOME, `+1555${String(n - 1).padStart(7, "0")}`, n)).toEqual({ conversation: "b2" });
      if (n > MAX_TEXT_ROUTES) expect(routeText(routes, HOME, "+15550000000", n)).toEqual({ conversation: HOME });
    },
  );

  it("keeps one entry a number and conversation: texting it again from there moves it, from elsewhere adds one", () => {
    let routes = recordText(NO_ROUTES, "+15550100001", "a1", 0);
    routes = recordText(routes, "+15550100001", "a1", 1);
    expect(routes.texts).toEqual([{ number: "+15550100001", conversationId: "a1", atMs: 1 }]);
    routes = recordText(routes, "+15550100001", "b2", 2);
    expect(routes.texts.map((r) => r.conversationId)).toEqual(["a1", "b2"]);
  });
});

describe("a mail from outside", () => {
  const id = fc.constantFrom("m1@mail.test", "m2@mail.test", "m3@mail.test", "m4@mail.test");
  test.prop([fc.array(fc.record({ id, conversation }), { maxLength: 20 }), id])(
    "goes to the conversation of the mail it replies to, otherwise the home",
    (sent, repliedTo) => {
      let routes: ToolRoutes = NO_ROUTES;
      sent.forEach((s, i) => {
        routes = recordMail(routes, { messageId: `<${s.id}>` }, s.conversation, i);
      });
      const expected = sent.findLast((s) => s.id === repliedTo)?.conversation ?? HOME;
      expect(routeMail(routes, HOME, { inReplyTo: `<${repliedTo}>` })).toBe(expected);
      expect(routeMail(routes, HOME, { references: `<other@mail.test> <${repliedTo}>` })).toBe(expected);
    },
  );

  it("reads In-Reply-To first, then References from the newest, then the thread", () => {
    let routes = recordMail(NO_ROUTES, { messageId: "<x@mail.test>", threadId: "t1" }, "a1", 0);
    routes = recordMail(routes, { messageId: "y@mail.test" }, "b2", 1);
    expect(routeMail(routes, HOME, { inReplyTo: "<x@mail.test>", references: "<y@mail.test>" })).toBe("a1");
    expect(routeMail(routes, HOME, { references: ["<y@mail.test>", "<x@mail.test>"] })).toBe("a1");
    expect(routeMail(routes, HOME, { references: ["<x@mail.test>", "<y@mail.test>"] })).toBe("b2");
    expect(routeMail(routes, HOME, { threadId: "t1" })).toBe("a1");
    expect(routeMail(routes, HOME, { threadId: "t2", inReplyTo: "<z@mail.test>" })).toBe(HOME);
    expect(routeMail(routes, HOME, {})).toBe(HOME);
  });

  it("keeps at most MAX_MAIL_ROUTES mails, dropping the oldest", () => {
    let routes: ToolRoutes = NO_ROUTES;
    for (let i = 0; i <= MAX_MAIL_ROUTES; i++) routes = recordMail(routes, { messageId: `m${i}@mail.test` }, "b2", i);
    expect(routes.mails.length).toBe(MAX_MAIL_ROUTES);
    expect(routeMail(routes, HOME, { inReplyTo: "m0@mail.test" })).toBe(HOME);
    expect(routeMail(routes, HOME, { inReplyTo: `m${MAX_MAIL_ROUTES}@mail.test` })).toBe("b2");
  });
});

describe("routes on disk", () => {
  it("leave out what is malformed", () => {
    expect(parseRoutes(undefined)).toEqual(NO_ROUTES);
    expect(
      parseRoutes({
        texts: [null, { number: "+15550100001", conversationId: "b2", atMs: 1 }, { number: 3 }],
        mails: 7,
      }),
    ).toEqual({ version: 1, texts: [{ number: "+15550100001", conversationId: "b2", atMs: 1 }], mails: [] });
  });

  it("are recorded in tool-routes.json, two sends in a row both kept", async () => {
    const dir = await mkdtemp(join(tmpdir(), "routes-"));
    try {
      const ws = new Workspace(dir, "agent-1");
      await ws.create();
      const log = { info() {}, warn() {}, error() {}, debug() {} } as never;
      const store = new RouteStore(ws, log);
      await Promise.all([
        store.record({ kind: "text", number: "+15550100001" }, "b2", 1),
        store.record({ kind: "mail", messageId: "<m@mail.test>", threadId: "t1" }, "a1", 2),
      ]);
      const routes = await store.read();
      expect(routeText(routes, HOME, "+15550100001", 2)).toEqual({ conversation: "b2" });
      expect(routeMail(routes, HOME, { inReplyTo: "<m@mail.test>" })).toBe("a1");
      expect(await ws.readJson("tool-routes.json")).toEqual(routes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("are looked up after the sends recorded before, in the order asked; an unreadable file routes a text to the owner alone", async () => {
    const dir = await mkdtemp(join(tmpdir(), "routes-"));
    try {
      const ws = new Workspace(dir, "inst_routes");
      await ws.create();
      const log = { info() {}, warn() {}, error() {}, debug() {} } as never;
      const store = new RouteStore(ws, log);
      const asked: string[] = [];
      // Not awaited: an answer that comes right after its send still finds the send's route.
      void store.record({ kind: "text", number: "+15550100001" }, "b2");
      const looked = [
        store.textFrom("+15550100001", HOME).then((c) => asked.push(`first ${JSON.stringify(c)}`)),
        store.textFrom("+15550100002", HOME).then((c) => asked.push(`second ${JSON.stringify(c)}`)),
      ];
      void store.record({ kind: "mail", messageId: "<m@mail.test>" }, "a1");
      looked.push(
        store.mailFrom({ references: ["<x@mail.test>", "<m@mail.test>"] }, HOME).then((c) => asked.push(`mail ${c}`)),
      );
      await Promise.all(looked);
      expect(asked).toEqual(['first {"conversation":"b2"}', 'second {"conversation":"home"}', "mail a1"]);
      await ws.writeText("tool-routes.json", "{ not json");
      // It may be the text of a number several conversations texted: nobody but the owner reads it.
      expect(await store.textFrom("+15550100001", HOME)).toEqual({ ownerOnly: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
