import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { ServerReflection } from "@convos-pool/gen/grpc/reflection/v1/reflection_pb.js";
import { generateServiceCredentials, serviceAuthInterceptor } from "./auth.js";
import { createLogger } from "./log.js";
import { startServer, type RunningServer } from "./start.js";

const run = promisify(execFile);
let server: RunningServer;

beforeAll(async () => {
  const creds = generateServiceCredentials();
  server = await startServer({
    name: "reflection-test",
    // A real pool service, behind its credential: reflection answers without one.
    routes: (router) =>
      router.service(TemplateService, { browseStore: async () => ({ templates: [], nextPageToken: "next" }) }),
    interceptors: [serviceAuthInterceptor(creds.templates.directory, { [TemplateService.typeName]: ["gateway"] })],
    log: createLogger("test", { level: "silent" }),
  });
});

afterAll(() => server.close());

/** buf curl without schema files: everything it knows comes from reflection. */
const bufCurl = async (...args: string[]) =>
  (
    await run("node_modules/.bin/buf", ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], {
      timeout: 30_000,
    })
  ).stdout;

describe("gRPC server reflection", () => {
  it("lets buf curl list a server's services and methods without the schema", async () => {
    const services = (await bufCurl("--list-services", server.url)).trim().split("\n");
    expect(services).toEqual(
      expect.arrayContaining([
        "convos.pool.v1.TemplateService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
      ]),
    );
    const methods = await bufCurl("--list-methods", server.url);
    expect(methods).toContain("convos.pool.v1.TemplateService/BrowseStore");
  });

  it("lets buf curl call a method, with messages from imported files, by their schema from the server", async () => {
    const health = JSON.parse(await bufCurl("-d", "{}", `${server.url}/grpc.health.v1.Health/Check`)) as {
      status: string;
    };
    expect(health.status).toBe("SERVING");
    // Calling a pool service still takes its credential: reflection describes, it does not open.
    const refused = await bufCurl(
      "-d",
      '{"query":"trip"}',
      `${server.url}/convos.pool.v1.TemplateService/BrowseStore`,
    ).then(
      () => "answered",
      (err: { stderr?: string }) => err.stderr ?? "",
    );
    expect(refused).toMatch(/unauthenticated/);
  });

  it("answers what it does not know with NOT_FOUND, in the stream", async () => {
    const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: server.url }));
    async function* asks() {
      yield { messageRequest: { case: "fileContainingSymbol" as const, value: "convos.pool.v1.NoSuchThing" } };
      yield { messageRequest: { case: "fileByFilename" as const, value: "convos/pool/v1/template_service.proto" } };
    }
    const answers = [];
    for await (const a of client.serverReflectionInfo(asks())) answers.push(a.messageResponse);
    expect(answers[0]).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
    expect(answers[1]?.case).toBe("fileDescriptorResponse");
    // The file and what it imports, so a client can resolve every type.
    expect((answers[1]!.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto.length).toBeGreaterThan(1);
  });
});
