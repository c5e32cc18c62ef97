// deploy/k8s/'s manifests against the Kubernetes API's schemas, offline: the
// validators that kubernetes-models 5.1.0 generates from the API's OpenAPI
// definitions (the API as of Kubernetes 1.34: it has resource.k8s.io/v1). They
// check every field's type, format and enum, and every required field; they
// do not refuse unknown fields, so the manifests' field names are checked
// against a list of the ones this deployment means (below). And what the
// deployment must have: POOL_ID on every service, secrets from Secrets,
// probes on gRPC health, resource requests, instance hosts as a StatefulSet
// with a PodDisruptionBudget, autoscaling of the stateless services.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import * as apps from "kubernetes-models/apps/v1";
import * as autoscaling from "kubernetes-models/autoscaling/v2";
import * as policy from "kubernetes-models/policy/v1";
import * as core from "kubernetes-models/v1";

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: any;
  data?: any;
  stringData?: any;
};

const MODELS: Record<string, { validate(): void } & any> = {
  "apps/v1/Deployment": apps.Deployment,
  "apps/v1/StatefulSet": apps.StatefulSet,
  "v1/Service": core.Service,
  "v1/ConfigMap": core.ConfigMap,
  "v1/Secret": core.Secret,
  "policy/v1/PodDisruptionBudget": policy.PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": autoscaling.HorizontalPodAutoscaler,
};

const load = (file: string): Manifest[] =>
  parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => d.toJS() as Manifest)
    .filter(Boolean);

const manifests = [...load("deploy/k8s/pool.yaml"), ...load("deploy/k8s/secrets.example.yaml")];
const workloads = manifests.filter((m) => m.kind === "Deployment" || m.kind === "StatefulSet");
const SERVICES = ["templates", "claims", "lineage", "gateway", "instance-host"];

/** The fields the API knows at the levels these manifests write (the validators let unknown ones pass). */
const KNOWN: Record<string, string[]> = {
  manifest: ["apiVersion", "kind", "metadata", "spec", "data", "stringData", "type"],
  workload: [
    "replicas",
    "strategy",
    "selector",
    "template",
    "serviceName",
    "podManagementPolicy",
    "updateStrategy",
    "volumeClaimTemplates",
  ],
  template: ["metadata", "spec"],
  pod: ["securityContext", "containers", "terminationGracePeriodSeconds", "volumes"],
  container: [
    "name",
    "image",
    "imagePullPolicy",
    "command",
    "args",
    "ports",
    "env",
    "volumeMounts",
    "startupProbe",
    "readinessProbe",
    "livenessProbe",
    "resources",
  ],
};
function unknownFields(m: Manifest): string[] {
  const out: string[] = [];
  const check = (level: string, obj: object | undefined, where: string) => {
    for (const k of Object.keys(obj ?? {})) if (!KNOWN[level]!.includes(k)) out.push(`${where}.${k}`);
  };
  check("manifest", m, m.kind);
  if (m.kind === "Deployment" || m.kind === "StatefulSet") {
    check("workload", m.spec, `${m.kind}.spec`);
    check("template", m.spec.template, "template");
    check("pod", m.spec.template?.spec, "template.spec");
    for (const c of m.spec.template?.spec?.containers ?? []) check("container", c, `containers[${c.name}]`);
  }
  return out;
}

function validate(m: Manifest): string | undefined {
  const Model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!Model) return `${m.apiVersion} ${m.kind} is no kind this test knows`;
  const unknown = unknownFields(m);
  if (unknown.length > 0) return `${m.kind} ${m.metadata?.name}: unknown fields ${unknown.join(", ")}`;
  try {
    new Model(m).validate();
    return undefined;
  } catch (err) {
    return `${m.kind} ${m.metadata?.name}: ${(err as Error).message}`;
  }
}

describe("deploy/k8s against the Kubernetes API's schemas", () => {
  it("every manifest is valid", () => {
    expect(manifests.length).toBeGreaterThan(10);
    expect(manifests.map(validate).filter(Boolean)).toEqual([]);
  });

  it("the check fails on a manifest the API would refuse", () => {
    const broken = structuredClone(workloads[0]!);
    broken.spec.template.spec.containers[0].readinessProbe = { grpc: { port: "grpc-port" } };
    expect(validate(broken)).toMatch(/port must be integer/);
    const noSelector = structuredClone(workloads[0]!);
    delete noSelector.spec.selector;
    expect(validate(noSelector)).toMatch(/selector/);
    // A pod's fields one level too high: the API would drop them; the check refuses them.
    const misplaced = structuredClone(workloads[0]!);
    misplaced.spec.template.securityContext = misplaced.spec.template.spec.securityContext;
    expect(validate(misplaced)).toMatch(/unknown fields template.securityContext/);
  });

  it("gives every service POOL_ID, its credential and secrets from Secrets, probes on gRPC health and resource requests", () => {
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual([...SERVICES].sort());
    for (const w of workloads) {
      const c = w.spec.template.spec.containers[0];
      const env = new Map<string, any>(c.env.map((e: any) => [e.name, e]));
      expect(env.get("POOL_ID")?.valueFrom?.configMapKeyRef?.key, `${w.metadata.name} POOL_ID`).toBe("pool-id");
      for (const secret of ["POOL_SERVICE_TOKEN", "POOL_METRICS_TOKEN"])
        expect(env.get(secret)?.valueFrom?.secretKeyRef, `${w.metadata.name} ${secret}`).toBeDefined();
      for (const e of env.values())
        if (/TOKEN|SECRET|KEY|SEED|DATABASE_URL/.test(e.name)) expect(e.value, `${e.name} inline`).toBeUndefined();
      expect(c.readinessProbe.grpc.port, `${w.metadata.name} readiness`).toBe(Number(env.get("PORT").value));
      expect(c.livenessProbe.grpc.port, `${w.metadata.name} liveness`).toBe(Number(env.get("PORT").value));
      expect(c.resources.requests.cpu && c.resources.requests.memory, `${w.metadata.name} requests`).toBeTruthy();
      expect(w.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    }
  });

  it("runs instance hosts as a StatefulSet with a PodDisruptionBudget and time to drain, and scales the others horizontally", () => {
    const host = manifests.find((m) => m.kind === "StatefulSet")!;
    expect(host.metadata.name).toBe("instance-host");
    expect(host.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    const pdbs = manifests.filter((m) => m.kind === "PodDisruptionBudget").map((m) => m.spec.selector.matchLabels.app);
    expect(pdbs).toContain("instance-host");
    const hpas = manifests
      .filter((m) => m.kind === "HorizontalPodAutoscaler")
      .map((m) => m.spec.scaleTargetRef.name)
      .sort();
    expect(hpas).toEqual(["claims", "gateway", "lineage", "templates"]);
  });
});
