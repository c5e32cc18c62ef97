// A lightweight InstanceService endpoint for bench/sync.ts, in its own process:
// serves many instances on one port, each selected by the `x-pool-instance`
// header (as an instance host does), over real gRPC. UpdateTemplate does what
// an instance must before applying: verifies the creator's signature with the
// kit against the template and creator the instance was configured with, and
// refuses a version not newer than the applied one. It writes no workspace.
// The signature is checked once per release for the whole process, as an
// instance host does (kit verified-releases.ts); BENCH_SYNC_SHARED_CHECK=0
// checks it for every instance, as hosts did before.
// InstanceHostService.UpdateTemplates takes one release for many of its
// instances, as the host does (services/instance/src/host/batch-updates.ts): the
// release checked once per template expected, then each instance's own
// template and version compared, answered per instance. BENCH_SYNC_BATCH=0:
// UNIMPLEMENTED, as from a host that predates it (the claims service then
// calls UpdateTemplate per instance, as before).
//
// Env: PORT, POOL_SERVICE_TOKEN, BENCH_CREATOR (inbox id), BENCH_TEMPLATES
// ("a=tmpl_…,b=tmpl_…": an instance id's sixth character picks its template),
// BENCH_BASE_VERSION (what every instance applied at claim),
// BENCH_SYNC_SHARED_CHECK, BENCH_SYNC_BATCH.
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  InstanceHostService,
  TemplateUpdateOutcomeSchema,
} from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  VerifiedReleases,
  verifyTemplateRelease,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import { contentToJson } from "@convos-pool/kit/content";
import {
  createLogger,
  installShutdownHandlers,
  serviceAuthInterceptor,
  serviceCredentialsFromEnv,
  startServer,
} from "@convos-pool/kit/server";

const env = (name: string) => process.env[name] ?? "";
const creatorId = env("BENCH_CREATOR");
const templates = new Map(
  env("BENCH_TEMPLATES")
    .split(",")
    .map((kv) => kv.split("=") as [string, string]),
);
const base = Number(env("BENCH_BASE_VERSION"));
const applied = new Map<string, number>();
const signatures = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
const verifier = env("BENCH_SYNC_SHARED_CHECK") === "0" ? signatures : new VerifiedReleases({ verifier: signatures });
const log = createLogger("sync-endpoint");

const batches = env("BENCH_SYNC_BATCH") !== "0";

function instanceOf(ctx: HandlerContext): { id: string; templateId: string } {
  return instance(ctx.requestHeader.get("x-pool-instance") ?? "");
}

function instance(id: string): { id: string; templateId: string } {
  const templateId = templates.get(id.charAt(5));
  if (!templateId) throw new ConnectError(`no instance ${id} here`, Code.NotFound);
  return { id, templateId };
}

/** One instance's update, its release checked (or the check shared) already: its own template, then a newer version. */
function apply(i: { id: string; templateId: string }, t: SignedTemplate, model: string) {
  if (t.templateId !== i.templateId)
    throw new ConnectError(`template.template_id: this instance runs ${i.templateId}`, Code.PermissionDenied);
  const now = applied.get(i.id) ?? base;
  if (t.version <= BigInt(now))
    throw new ConnectError(`version ${t.version} is not newer than ${now}`, Code.FailedPrecondition);
  applied.set(i.id, Number(t.version));
  return { appliedVersion: t.version, model };
}

const modelOf = (t: SignedTemplate) => contentToJson(t.content!).model?.default ?? "";

const server = await startServer({
  name: "sync-endpoint",
  port: Number(env("PORT")),
  host: "127.0.0.1",
  log,
  // The real host's policy (HOST_ACCESS), without loading the XMTP SDK that its package brings.
  interceptors: [
    serviceAuthInterceptor(serviceCredentialsFromEnv("instance-host").directory, {
      [InstanceService.typeName]: ["claims"],
      [InstanceHostService.typeName]: ["claims"],
    }),
  ],
  routes: (router) =>
    router
      .service(InstanceHostService, {
        async updateTemplates(req) {
          if (!batches) throw new ConnectError("UpdateTemplates is not served here", Code.Unimplemented);
          const t = req.template;
          if (!t) throw new ConnectError("template: required", Code.InvalidArgument);
          // The release's check, once per template expected (all of them, here: one).
          const checks = new Map<string, Promise<unknown>>();
          const model = modelOf(t);
          const outcomes = [];
          for (const target of req.instances) {
            try {
              const i = instance(target.instanceId);
              let check = checks.get(i.templateId);
              if (!check) {
                check = verifyTemplateRelease(verifier, t, { templateId: i.templateId, creatorId });
                checks.set(i.templateId, check);
              }
              await check;
              outcomes.push(
                create(TemplateUpdateOutcomeSchema, {
                  instanceId: i.id,
                  outcome: { case: "applied", value: apply(i, t, model) },
                }),
              );
            } catch (err) {
              const e = ConnectError.from(err);
              outcomes.push(
                create(TemplateUpdateOutcomeSchema, {
                  instanceId: target.instanceId,
                  outcome: { case: "error", value: { code: e.code, message: e.rawMessage } },
                }),
              );
            }
          }
          return { outcomes };
        },
      })
      .service(InstanceService, {
        async updateTemplate(req, ctx) {
          const i = instanceOf(ctx);
          const t = req.template;
          if (!t) throw new ConnectError("template: required", Code.InvalidArgument);
          await verifyTemplateRelease(verifier, t, { templateId: i.templateId, creatorId });
          return apply(i, t, modelOf(t));
        },
        health(_req, ctx) {
          const i = instanceOf(ctx);
          return { state: InstanceState.CLAIMED, appliedTemplateVersion: BigInt(applied.get(i.id) ?? base) };
        },
      }),
});
installShutdownHandlers(log, () => server.close());
