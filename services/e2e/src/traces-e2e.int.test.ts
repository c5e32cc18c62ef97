// A claim and a turn, each read back as one trace (docs/runbook.md, "Traces"):
// Saul claims an agent through the gateway into the conversation his Convos
// CLI serves, then talks to it. The spans go out over OTLP/HTTP as a
// deployed service sends them (the kit's startTracing, from
// OTEL_EXPORTER_OTLP_ENDPOINT) to a collector that stands in for Jaeger
// (otlp-receiver.ts: the only stand-in, for a third-party service). One trace
// id must join the gateway's, the claims service's, the host's and the
// agent's spans, each the child of the one that called it; the claim's log
// line must carry it; no span may carry a secret or what was said.
// Real: PostgreSQL, the XMTP node, the instance host, the claims, template and
// lineage services, the gateway, the Convos CLI.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { createLogger, startTracing, type Tracing } from "@convos-pool/kit/server";
import { signClaim } from "@convos-pool/kit/signing";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { RealStack } from "./real-stack.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./otlp-receiver.js";

const SERVER = 2;
const CLIENT = 3;
const QUESTION = "Which three museums in Lisbon should we not miss?";

const claimsLogs: string[] = [];
const hostLogs: string[] = [];
const gatewayLogs: string[] = [];
const stack = new RealStack({
  name: "traces-e2e",
  conversationName: "Lisbon weekend",
  logs: { host: (l) => hostLogs.push(l), claims: (l) => claimsLogs.push(l) },
  claims: { pool: { target: 1 } },
});

let receiver: OtlpReceiver;
let tracing: Tracing | undefined;
let gateway: RunningGateway;
let saul: TestIdentity;
let templateId: string;
const envBefore = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

/** The spans received so far, once what ended is flushed. */
async function received(): Promise<ReceivedSpan[]> {
  await tracing!.flush();
  return receiver.spans;
}

/** The one span of `spans` that matches, with a message naming what was there when none or several do. */
function one(spans: ReceivedSpan[], what: string, match: (s: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(match);
  expect(
    found,
    `${what} in ${JSON.stringify(spans.map((s) => [s.name, s.kind, s.attributes["pool.service"]]))}`,
  ).toHaveLength(1);
  return found[0]!;
}

/** No attribute of any span is a secret or a person's words. */
function expectNothingSecret(spans: ReceivedSpan[], words: string[]): void {
  const tokens = Object.values(stack.creds).map((c) => c.token);
  for (const s of spans) {
    for (const [key, value] of Object.entries(s.attributes)) {
      expect(key).not.toMatch(/secret|token|password|signature|authorization|private|key|credential|cookie/i);
      for (const w of [...tokens, ...words]) expect(String(value), `${s.name} ${key}`).not.toContain(w);
    }
  }
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // As a deployed service reads them (kit service/run.ts): the standard variable names the collector.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  tracing = startTracing("pool");
  await stack.start();
  gateway = await startGateway({
    templatesUrl: stack.templates!.url,
    claimsUrl: stack.claims!.url,
    credentials: stack.creds.gateway,
    databaseUrl: await createTestDatabase("traces_e2e_gateway"),
    log: createLogger("gateway", { level: "debug", sink: (l) => gatewayLogs.push(l) }),
  });
  saul = await stack.personOf();
  const creator = newIdentity();
  const template = await signedTemplate(
    stack.templatesSc!.client,
    creator,
    sampleContent({ agent_name: "Lisbon Guide", tools: [] }),
    "public",
  );
  templateId = template.id;
  await stack.idleAgents(1);
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  await stack.close();
  await tracing?.shutdown();
  await receiver?.close();
  if (envBefore === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = envBefore;
}, 60_000);

describe("traces", () => {
  let instanceId = "";

  it("a claim through the gateway is one trace: gateway, claims (take, configure, join, complete), host and agent, each the child of its caller, and its log line names it", {
    timeout: 90_000,
  }, async () => {
    expect(tracing, "tracing starts when OTEL_EXPORTER_OTLP_ENDPOINT is set").toBeDefined();
    const claims = createClient(ClaimService, createConnectTransport({ baseUrl: gateway.url, httpVersion: "1.1" }));
    const claim = {
      requester: saul.inboxId,
      templateId,
      conversationInvite: stack.ready.inviteUrl,
      model: "",
      userConfig: {},
    };
    const signature = await signClaim(saul.account, claim);
    instanceId = (await claims.claim({ ...claim, signature })).instanceId;

    await waitFor("the claim's spans", async () => (await received()).some((s) => s.name === "agent.join"), 10_000);
    const all = await received();
    const gw = one(
      all,
      "the gateway's server span of the claim",
      (s) =>
        s.name === "convos.pool.v1.ClaimService/Claim" &&
        s.kind === SERVER &&
        s.attributes["pool.service"] === "gateway",
    );
    expect(gw.parentSpanId, "the gateway's span is the trace's root").toBe("");
    const trace = all.filter((s) => s.traceId === gw.traceId);
    const childOf = (parent: ReceivedSpan, what: string, match: (s: ReceivedSpan) => boolean) =>
      one(trace, what, (s) => s.parentSpanId === parent.spanId && match(s));

    const gwCall = childOf(gw, "the gateway's call to claims", (s) => s.kind === CLIENT && s.name.endsWith("/Claim"));
    const server = childOf(
      gwCall,
      "the claims service's span",
      (s) => s.kind === SERVER && s.attributes["pool.service"] === "claims",
    );
    expect(server.attributes).toMatchObject({ "pool.template_id": templateId, "pool.instance_id": instanceId });
    for (const step of ["claim.take", "claim.configure", "claim.join", "claim.complete"])
      childOf(server, step, (s) => s.name === step);

    // The host's calls, each from its step, each answered by the host, the agent's part inside.
    for (const [step, agentSpan] of [
      ["claim.configure", "agent.configure"],
      ["claim.join", "agent.join"],
    ] as const) {
      const stepSpan = childOf(server, step, (s) => s.name === step);
      const call = childOf(stepSpan, `the claims service's call of ${step}`, (s) => s.kind === CLIENT);
      const hostSpan = childOf(
        call,
        `the host's span of ${step}`,
        (s) => s.kind === SERVER && s.attributes["pool.service"] === "instance-host",
      );
      expect(hostSpan.name).toBe(call.name);
      const agent = childOf(hostSpan, agentSpan, (s) => s.name === agentSpan);
      expect(agent.attributes["pool.instance_id"]).toBe(instanceId);
    }

    // The claim's log line names the trace, and the span it was written in.
    const claimed = claimsLogs
      .map((l) => JSON.parse(l) as { msg: string; instanceId?: string; trace_id?: string; span_id?: string })
      .find((l) => l.msg === "claimed" && l.instanceId === instanceId);
    expect(claimed?.trace_id).toBe(gw.traceId);
    expect(trace.map((s) => s.spanId)).toContain(claimed?.span_id);
    // So does the gateway's line of the call.
    expect(gatewayLogs.some((l) => l.includes(`"trace_id":"${gw.traceId}"`) && l.includes("ClaimService/Claim"))).toBe(
      true,
    );

    expectNothingSecret(trace, [signature.signature, signature.nonce, stack.ready.inviteUrl]);
  });

  it("a turn is one trace: the host's agent.turn, with the model's call and the answer sent inside it, and none of the words", {
    timeout: 60_000,
  }, async () => {
    expect(instanceId).not.toBe("");
    const agent = stack.host!.instances.get(instanceId)!;
    const from = await stack.cli!.send(QUESTION);
    const answer = (await stack.cli!.messageFrom(agent.inboxId, from)).content;

    // The turn's span ends last, after its answer went out.
    await waitFor(
      "the turn's spans",
      async () =>
        (await received()).some((s) => s.name === "agent.turn" && s.attributes["pool.instance_id"] === instanceId),
      10_000,
    );
    const all = await received();
    const turn = one(
      all,
      "the turn",
      (s) => s.name === "agent.turn" && s.attributes["pool.instance_id"] === instanceId,
    );
    expect(turn.attributes["pool.template_id"]).toBe(templateId);
    const trace = all.filter((s) => s.traceId === turn.traceId);
    for (const name of ["agent.model", "agent.answer"])
      one(trace, name, (s) => s.name === name && s.parentSpanId === turn.spanId);
    // The turn's log line names it.
    expect(hostLogs.some((l) => l.includes(`"trace_id":"${turn.traceId}"`) && l.includes('"msg":"answered"'))).toBe(
      true,
    );
    expectNothingSecret(all, [QUESTION, answer]);
  });

  it("a REST call is a server span of its own in the caller's trace, named by its method alone, the gateway's call to templates inside it", {
    timeout: 30_000,
  }, async () => {
    // The caller's trace and span, as a traced client of the REST paths sends them.
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpan = "00f067aa0ba902b7";
    const res = await fetch(`${gateway.url}/api/pool/templates/${templateId}`, {
      headers: { traceparent: `00-${traceId}-${callerSpan}-01` },
    });
    expect(res.status).toBe(200);

    await waitFor("the REST call's span", async () => (await received()).some((s) => s.traceId === traceId), 10_000);
    const trace = (await received()).filter((s) => s.traceId === traceId);
    const rest = one(trace, "the gateway's span of the REST call", (s) => s.kind === SERVER && s.name === "HTTP GET");
    expect(rest.parentSpanId).toBe(callerSpan);
    expect(rest.attributes).toMatchObject({ "http.request.method": "GET", "pool.service": "gateway" });
    one(trace, "the gateway's call to templates", (s) => s.kind === CLIENT && s.parentSpanId === rest.spanId);
    expectNothingSecret([rest], [templateId]);
  });
});
