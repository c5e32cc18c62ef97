// A lightweight InstanceService endpoint for bench/sync.ts, in its own process:
// serves many instances on one port, each selected by the `x-pool-instance`
// header (as an instance host does), over real gRPC. UpdateTemplate does what
// an instance must before applying: verifies the creator's signature with the
// kit against the template and creator the instance was configured with, and
// refuses a version not newer than the applied one. It writes no workspace.
// The signature is checked once per release for the whole process, as an
// instance host does (kit verified-releases.ts); BENCH_SYNC_SHARED_CHECK=0
// checks it for every instance, as hosts did before.
//
// Env: PORT, POOL_SERVICE_TOKEN, BENCH_CREATOR (inbox id), BENCH_TEMPLATES
// ("a=tmpl_…,b=tmpl_…": an instance id's sixth character picks its template),
// BENCH_BASE_VERSION (what every instance applied at claim),
// BENCH_SYNC_SHARED_CHECK.
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  contentToJson,
  createLogger,
  installShutdownHandlers,
  serviceAuthInterceptor,
  serviceCredentialsFromEnv,
  startServer,
  VerifiedReleases,
  verifyTemplateRelease,
} from "@convos-pool/kit";

const env = (name: string) => process.env[name] ?? "";
const creatorId = env("BENCH_CREATOR");
const templates = new Map(env("BENCH_TEMPLATES").split(",").map((kv) => kv.split("=") as [string, string]));
const base = Number(env("BENCH_BASE_VERSION"));
const applied = new Map<string, number>();
const signatures = new SignatureVerifier({ resolver: new DerivedInboxResolver() });
const verifier = env("BENCH_SYNC_SHARED_CHECK") === "0" ? signatures : new VerifiedReleases({ verifier: signatures });
const log = createLogger("sync-endpoint");

function instanceOf(ctx: HandlerContext): { id: string; templateId: string } {
  const id = ctx.requestHeader.get("x-pool-instance") ?? "";
  const templateId = templates.get(id.charAt(5));
  if (!templateId) throw new ConnectError(`no instance ${id} here`, Code.NotFound);
  return { id, templateId };
}

const server = await startServer({
  name: "sync-endpoint",
  port: Number(env("PORT")),
  host: "127.0.0.1",
  log,
  // The real host's policy (HOST_ACCESS), without loading the XMTP SDK that its package brings.
  interceptors: [serviceAuthInterceptor(serviceCredentialsFromEnv("instance-host").directory, { [InstanceService.typeName]: ["claims"] })],
  routes: (router) =>
    router.service(InstanceService, {
      async updateTemplate(req, ctx) {
        const i = instanceOf(ctx);
        const t = req.template;
        if (!t) throw new ConnectError("template: required", Code.InvalidArgument);
        await verifyTemplateRelease(verifier, t, { templateId: i.templateId, creatorId });
        const now = applied.get(i.id) ?? base;
        if (t.version <= BigInt(now)) throw new ConnectError(`version ${t.version} is not newer than ${now}`, Code.FailedPrecondition);
        applied.set(i.id, Number(t.version));
        return { appliedVersion: t.version, model: contentToJson(t.content!).model?.default ?? "" };
      },
      health(_req, ctx) {
        const i = instanceOf(ctx);
        return { state: InstanceState.CLAIMED, appliedTemplateVersion: BigInt(applied.get(i.id) ?? base) };
      },
    }),
});
installShutdownHandlers(log, () => server.close());
