// The overload benchmark's REST mix (bench/overload.ts, issue 79): the
// gateway's REST face (its main.ts, in its own process) in front of the same
// claims and templates services, offered an open loop of what the web app
// asks: claims (ClaimService.Claim, default), store listings
// (TemplateService.BrowseStore, sheddable) and "My agents" dashboard reads
// (ClaimService.ListOwnerAgents, sheddable), each by a signed-in person and
// each with a deadline (connect-timeout-ms, which the gateway passes on).
// Its anchor is the mix's own closed-loop capacity, measured in the same run.
// What it should show: past capacity the listings are refused before claims.
import { performance } from "node:perf_hooks";
import { serviceEnv, type ServiceCredentials } from "@convos-pool/kit/server";
import { signInJson, signSignIn } from "@convos-pool/kit/signing";
import type { TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase, TEST_METRICS_TOKEN } from "@convos-pool/testing";
import { type Child, size, startChild } from "./lib.js";
import { closedLoop, openLoop, processLoad, rpcTime, said, scrape } from "./overload-loops.js";
import { type MixKind, mixKind, type Outcome, restMixLines, restTimeLine } from "./overload-report.js";

const CAPACITY_REQUESTS = size("BENCH_REST_CAPACITY", 900, 60);
// Below the kit's floor of 32 in flight: with more callers than a starved service's learned limit, a closed loop
// measures its refusals (each refused at once, and the caller straight back), not its capacity.
const CONCURRENCY = 20;

export interface RestMixSetup {
  templatesUrl: string;
  claimsUrl: string;
  gateway: ServiceCredentials;
  templateId: string;
  people: readonly TestIdentity[];
  deadlineMs: number;
  levels: readonly number[];
  levelSeconds: number;
  children: Child[];
}

/** The refusals of the present level by who refused them ("gateway", "claims", "templates"). */
const refusedBy = new Map<string, number>();

/** A REST answer's outcome code: "ok", "ResourceExhausted" (429; "Throttled" when the gateway's own client refused it), "DeadlineExceeded" (504, or the caller gave up), else the status. */
async function outcome(res: Response): Promise<string> {
  if (res.ok) {
    await res.arrayBuffer();
    return "ok";
  }
  const text = await res.text();
  const code =
    res.status === 429
      ? text.includes("this client's throttle")
        ? "Throttled"
        : "ResourceExhausted"
      : res.status === 504
        ? "DeadlineExceeded"
        : `HTTP ${res.status}`;
  if (!said.has(`REST ${code}`)) said.set(`REST ${code}`, text.slice(0, 200));
  // Who refused: the gateway's own admission, or a service behind it (its refusal relayed, as "claims is busy").
  if (code === "ResourceExhausted") {
    const by = /"message":"(\w+) is busy/.exec(text)?.[1] ?? "other";
    refusedBy.set(by, (refusedBy.get(by) ?? 0) + 1);
  }
  return code;
}

export async function restMix(s: RestMixSetup): Promise<void> {
  const gateway = await startChild("services/gateway/src/main.ts", {
    DATABASE_URL: await createTestDatabase("bench_overload_gateway"),
    ...serviceEnv(s.gateway),
    TEMPLATES_URL: s.templatesUrl,
    CLAIMS_URL: s.claimsUrl,
    POOL_SESSION_SECRET: "bench-overload-".repeat(3),
    // 50 people from one address make thousands of calls: the per-address and per-caller rates off.
    POOL_LIMITS:
      "claims.caller=off,claims.address=off,signins.inbox=off,signins.address=off,connections.address=off,agents.owner=100000,tools.owner=100000",
  });
  s.children.push(gateway);
  const tokens = await Promise.all(
    s.people.map(async (who) => {
      const signed = await signSignIn(who.account, who.inboxId, gateway.url);
      const res = await fetch(`${gateway.url}/api/pool/sessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(signInJson(signed)),
      });
      if (!res.ok) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    }),
  );
  let n = 0;
  const call = async (kind: MixKind): Promise<string> => {
    const i = n++;
    const who = s.people[i % s.people.length]!;
    const headers: Record<string, string> = {
      authorization: `Bearer ${tokens[i % tokens.length]}`,
      "connect-timeout-ms": String(s.deadlineMs),
    };
    const signal = AbortSignal.timeout(s.deadlineMs);
    try {
      if (kind === "claim") {
        headers["content-type"] = "application/json";
        const body = JSON.stringify({
          requester: who.inboxId,
          template_id: s.templateId,
          conversation_invite: `https://dev.convos.org/v2?i=overload-rest-${i}`,
        });
        return await outcome(await fetch(`${gateway.url}/api/pool/claim`, { method: "POST", headers, body, signal }));
      }
      const path =
        kind === "listing" ? "/api/pool/templates?visibility=public" : `/api/pool/agents?owner=${who.inboxId}`;
      return await outcome(await fetch(`${gateway.url}${path}`, { headers, signal }));
    } catch (err) {
      // The caller gave up at its deadline.
      if (err instanceof DOMException && err.name === "TimeoutError") return "DeadlineExceeded";
      const code = `fetch ${(err as Error).name}`;
      if (!said.has(code)) said.set(code, String((err as Error).message).slice(0, 200));
      return code;
    }
  };
  const urls = [s.claimsUrl, s.templatesUrl, gateway.url];
  const scrapeAll = () => Promise.all(urls.map((url) => scrape(url, TEST_METRICS_TOKEN)));
  const serviceTimes = (before: string[], after: string[]) => ({
    claim: rpcTime(before[0]!, after[0]!, "Claim"),
    listing: rpcTime(before[1]!, after[1]!, "BrowseStore"),
    dashboard: rpcTime(before[0]!, after[0]!, "ListOwnerAgents"),
  });
  let k = 0;
  const anchor: (Outcome & { i: number })[] = [];
  const beforeClosed = await scrapeAll();
  const closed = await closedLoop(CAPACITY_REQUESTS, CONCURRENCY, async () => {
    const i = k++;
    const t0 = performance.now();
    const code = await call(mixKind(i));
    anchor.push({ i, ms: performance.now() - t0, code });
    return code;
  });
  const afterClosed = await scrapeAll();
  const capacity = closed.perSecond;
  console.log(
    `REST mix capacity (closed loop, ${CAPACITY_REQUESTS} requests by ${CONCURRENCY} callers: 4 claims, 4 store listings, 2 dashboard reads in 10): ` +
      `${capacity.toFixed(0)} requests/s answered (${closed.failed} failed)`,
  );
  console.log(restTimeLine(anchor, serviceTimes(beforeClosed, afterClosed)));
  for (const factor of s.levels) {
    const before = await scrapeAll();
    refusedBy.clear();
    const t0 = performance.now();
    const outcomes = await openLoop(capacity * factor, s.levelSeconds, (i) => call(mixKind(i)));
    const seconds = (performance.now() - t0) / 1000;
    const after = await scrapeAll();
    for (const line of restMixLines(factor, capacity * factor, s.levelSeconds, outcomes)) console.log(line);
    // Where an answered request's time went: in the service behind the gateway, or before and after it.
    console.log(restTimeLine(outcomes, serviceTimes(before, after)));
    if (refusedBy.size > 0) console.log(`  refused by: ${[...refusedBy].map(([by, n]) => `${by} ${n}`).join(", ")}`);
    console.log(
      `  the claims service: ${processLoad(before[0]!, after[0]!, seconds)}; the templates service: ${processLoad(before[1]!, after[1]!, seconds)}; ` +
        `the gateway: ${processLoad(before[2]!, after[2]!, seconds)}`,
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
}
