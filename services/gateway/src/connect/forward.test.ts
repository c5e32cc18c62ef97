// The forwarders' table on the Connect face, in memory: real Connect routers
// and clients (createRouterTransport) for the gateway's face and for the
// templates service behind it; stand-ins for the sessions (a fixed token is
// one caller) and the limits per client address (counted, never refusing).

import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { CALLER_HEADER, fieldViolations, invalidArgument } from "@convos-pool/kit/content";
import { createLogger, limitExceeded, limitExceededOf } from "@convos-pool/kit/server";
import { describe, expect, it } from "vitest";
import { createForwarders, FORWARDED, routeForwarded, type Gate, type Upstream } from "./forward.js";

const TOKEN = "Bearer a-session";

function gateway(opts: { getTemplate: (id: string, caller: string | null) => never | object }) {
  const taken: string[] = [];
  const gate = {
    sessions: { callerOf: async (auth: string | null | undefined) => (auth === TOKEN ? "inbox-1" : undefined) },
    addresses: { take: async (service: string, method: string) => void taken.push(`${service}/${method}`) },
  } as unknown as Gate;
  const templates = createRouterTransport(({ service }) =>
    service(TemplateService, {
      getTemplate: (req, ctx) => opts.getTemplate(req.templateId, ctx.requestHeader.get(CALLER_HEADER)),
    }),
  );
  const asked: Upstream[] = [];
  const clientOf = <S extends DescService>(service: S, upstream: Upstream): Client<S> | undefined => {
    asked.push(upstream);
    return upstream === "templates" ? createClient(service, templates) : undefined;
  };
  const forwarders = createForwarders(clientOf, gate, createLogger("test", { level: "silent" }));
  const face = createRouterTransport((router) =>
    routeForwarded(router, forwarders, { claims: "no claims service here", lineage: "no lineage service here" }),
  );
  return { face, forwarders, taken, asked };
}

describe("the forwarders' table", () => {
  it("builds one forwarder for each service whose internal service the gateway has, and none for the others", () => {
    const { forwarders, asked } = gateway({ getTemplate: () => ({}) });
    const templatesOnes = Object.entries(FORWARDED).filter(([, row]) => row.upstream === "templates");
    expect(Object.keys(forwarders).sort()).toEqual(templatesOnes.map(([key]) => key).sort());
    expect(asked).toHaveLength(Object.keys(FORWARDED).length);
  });

  it("forwards a call with the caller's inbox only, counted against the client address first", async () => {
    const { face, taken } = gateway({ getTemplate: (id, caller) => ({ template: { id, creatorId: caller ?? "" } }) });
    const client = createClient(TemplateService, face);
    const res = await client.getTemplate({ templateId: "t-1" }, { headers: { authorization: TOKEN } });
    expect(res.template).toMatchObject({ id: "t-1", creatorId: "inbox-1" });
    expect(taken).toEqual([`${TemplateService.typeName}/GetTemplate`]);
  });

  it("answers UNAVAILABLE with the gateway's message for a service it has no internal service for", async () => {
    const { face } = gateway({ getTemplate: () => ({}) });
    const claims = createClient(ClaimService, face);
    await expect(claims.getInstance({ instanceId: "i-1" })).rejects.toMatchObject({
      code: Code.Unavailable,
      rawMessage: "no claims service here",
    });
    const lineage = createClient(LineageService, face);
    await expect(lineage.listOwnerLineage({})).rejects.toMatchObject({
      code: Code.Unavailable,
      rawMessage: "no lineage service here",
    });
  });

  it("relays the internal service's error with its code, message and details, and of its metadata only Retry-After", async () => {
    const invalid = invalidArgument("template_id", "is not a template id");
    invalid.metadata.set("x-internal", "10.0.0.7");
    const { face } = gateway({
      getTemplate: (id) => {
        throw id === "bad" ? invalid : limitExceeded("reads per caller", "reads per caller is 3 per 60 s", 42);
      },
    });
    const client = createClient(TemplateService, face);
    const bad = ConnectError.from(await client.getTemplate({ templateId: "bad" }).catch((e: unknown) => e));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(fieldViolations(bad)).toEqual([{ field: "template_id", description: "is not a template id" }]);
    expect(bad.metadata.get("x-internal")).toBeNull();
    const limited = ConnectError.from(await client.getTemplate({ templateId: "any" }).catch((e: unknown) => e));
    expect(limited.code).toBe(Code.ResourceExhausted);
    expect(limited.rawMessage).toBe("reads per caller is 3 per 60 s");
    expect(limited.metadata.get("retry-after")).toBe("42");
    expect(limitExceededOf(limited)?.retryAfterSeconds).toBe(42);
  });
});
