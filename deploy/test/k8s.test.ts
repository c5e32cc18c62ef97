// deploy/k8s/'s manifests against the Kubernetes API's schemas, offline: the
// validators that kubernetes-models 5.1.0 generates from the API's OpenAPI
// definitions (the API as of Kubernetes 1.34: it has resource.k8s.io/v1). They
// check every field's type, format and enum, and every required field; they
// do not refuse unknown fields, so the manifests' field names are checked
// against a list of the ones this deployment means (below). And what the
// deployment must have: POOL_ID on every service, secrets from Secrets,
// probes on gRPC health, resource requests, instance hosts as a StatefulSet
// with a PodDisruptionBudget, autoscaling of the stateless services, and the
// pool's root seed in the keys service's pods alone.
import { describe, expect, it } from "vitest";
import * as apps from "kubernetes-models/apps/v1";
import * as autoscaling from "kubernetes-models/autoscaling/v2";
import * as policy from "kubernetes-models/policy/v1";
import * as core from "kubernetes-models/v1";
import { kubePlan } from "./kube.js";
import { isWorkload, loadManifests, type Manifest, type Named } from "./manifests.js";

/** A kind's check: its model, made from the manifest as parsed (whatever it holds), validates it against the API's schema. */
const checkWith =
  <T>(Model: new (data: T) => { validate(): void }) =>
  (m: Manifest) =>
    new Model(m as T).validate();

const MODELS: Record<string, (m: Manifest) => void> = {
  "apps/v1/Deployment": checkWith(apps.Deployment),
  "apps/v1/StatefulSet": checkWith(apps.StatefulSet),
  "v1/Service": checkWith(core.Service),
  "v1/ConfigMap": checkWith(core.ConfigMap),
  "v1/Secret": checkWith(core.Secret),
  "policy/v1/PodDisruptionBudget": checkWith(policy.PodDisruptionBudget),
  "autoscaling/v2/HorizontalPodAutoscaler": checkWith(autoscaling.HorizontalPodAutoscaler),
};

const manifests = [...loadManifests("deploy/k8s/pool.yaml"), ...loadManifests("deploy/k8s/secrets.example.yaml")];
const workloads = manifests.filter(isWorkload);
const SERVICES = ["templates", "claims", "lineage", "keys", "gateway", "instance-host"];
/** The Secret that holds the pool's root seed, and the variables that carry it (kit's MasterSeed, keys' seed.ts). */
const SEED_SECRET = "master-seed";
const SEED_VARS = ["POOL_MASTER_SEED", "POOL_MASTER_SEED_FILE"];

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
  if (isWorkload(m)) {
    check("workload", m.spec, `${m.kind}.spec`);
    check("template", m.spec?.template, "template");
    check("pod", m.spec?.template?.spec, "template.spec");
    for (const c of m.spec?.template?.spec?.containers ?? []) check("container", c, `containers[${c.name}]`);
  }
  return out;
}

function validate(m: Manifest): string | undefined {
  const check = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!check) return `${m.apiVersion} ${m.kind} is no kind this test knows`;
  const unknown = unknownFields(m);
  if (unknown.length > 0) return `${m.kind} ${m.metadata?.name}: unknown fields ${unknown.join(", ")}`;
  try {
    check(m);
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
    // Each broken as the types would not let it be: written past them, as YAML can be.
    const broken = structuredClone(workloads[0]!);
    Object.assign(broken.spec!.template.spec!.containers[0]!, { readinessProbe: { grpc: { port: "grpc-port" } } });
    expect(validate(broken)).toMatch(/port must be integer/);
    const noSelector = structuredClone(workloads[0]!);
    Reflect.deleteProperty(noSelector.spec!, "selector");
    expect(validate(noSelector)).toMatch(/selector/);
    // A pod's fields one level too high: the API would drop them; the check refuses them.
    const misplaced = structuredClone(workloads[0]!);
    Object.assign(misplaced.spec!.template, { securityContext: misplaced.spec!.template.spec!.securityContext });
    expect(validate(misplaced)).toMatch(/unknown fields template.securityContext/);
  });

  it("gives every service POOL_ID, its credential and secrets from Secrets, probes on gRPC health and resource requests", () => {
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual([...SERVICES].sort());
    for (const w of workloads) {
      const c = w.spec!.template.spec!.containers[0]!;
      const env = new Map((c.env ?? []).map((e) => [e.name, e]));
      expect(env.get("POOL_ID")?.valueFrom?.configMapKeyRef?.key, `${w.metadata.name} POOL_ID`).toBe("pool-id");
      expect(env.get("POOL_METRICS_TOKEN")?.valueFrom?.secretKeyRef, `${w.metadata.name} metrics`).toBeDefined();
      if (w.metadata.name === "instance-host") {
        // Each host pod its own credential: its Secret's key named after the pod, mounted alone.
        const file = env.get("POOL_SERVICE_TOKEN_FILE")?.value;
        const mount = c.volumeMounts?.find((m) => m.mountPath === file);
        expect(mount?.subPathExpr, "the host's credential is its pod's own").toBe("$(POD_NAME)");
        const volume = w.spec!.template.spec!.volumes?.find((v) => v.name === mount?.name);
        expect(volume?.secret?.secretName).toBe("instance-host-credentials");
        expect(env.has("POOL_SERVICE_TOKEN"), "no credential shared by every host").toBe(false);
      } else
        expect(env.get("POOL_SERVICE_TOKEN")?.valueFrom?.secretKeyRef, `${w.metadata.name} credential`).toBeDefined();
      // Secrets by name (POOL_KEYS_URL is an address, not a key).
      for (const e of env.values())
        if (e.name === "DATABASE_URL" || (/TOKEN|SECRET|KEY|SEED/.test(e.name) && !/_(FILE|URL)$/.test(e.name)))
          expect(e.value, `${e.name} inline`).toBeUndefined();
      expect(c.readinessProbe?.grpc?.port, `${w.metadata.name} readiness`).toBe(Number(env.get("PORT")?.value));
      expect(c.livenessProbe?.grpc?.port, `${w.metadata.name} liveness`).toBe(Number(env.get("PORT")?.value));
      expect(c.resources?.requests?.cpu && c.resources.requests.memory, `${w.metadata.name} requests`).toBeTruthy();
      expect(w.spec?.template.spec?.securityContext?.runAsNonRoot).toBe(true);
    }
  });

  it("gives the pool's root seed to the keys service alone, as a file from its own Secret, and the hosts the keys service's address", () => {
    // What reads the seed Secret in a workload: variables by name, variables and volumes by the Secret.
    const seedReaders = (w: (typeof workloads)[number]) => {
      const pod = w.spec!.template.spec!;
      const containers = [...pod.containers, ...(pod.initContainers ?? [])];
      return [
        ...containers.flatMap((c) =>
          (c.env ?? []).filter((e) => SEED_VARS.includes(e.name)).map((e) => `env ${e.name}`),
        ),
        ...containers.flatMap((c) =>
          (c.env ?? [])
            .filter((e) => e.valueFrom?.secretKeyRef?.name === SEED_SECRET)
            .map((e) => `env ${e.name} from the Secret`),
        ),
        ...containers.flatMap((c) =>
          (c.envFrom ?? []).filter((f) => f.secretRef?.name === SEED_SECRET).map(() => "envFrom the Secret"),
        ),
        ...(pod.volumes ?? [])
          .filter(
            (v) =>
              v.secret?.secretName === SEED_SECRET ||
              v.projected?.sources?.some((src) => src.secret?.name === SEED_SECRET),
          )
          .map((v) => `volume ${v.name}`),
      ];
    };
    for (const w of workloads)
      if (w.metadata.name !== "keys") expect(seedReaders(w), `${w.metadata.name} reads the seed`).toEqual([]);
    // No other Secret holds it: the "pool" Secret, which every service reads from, has no seed.
    const secrets = manifests.filter((m): m is Named<core.ISecret> => m.kind === "Secret");
    for (const m of secrets.filter((m) => m.metadata.name !== SEED_SECRET))
      expect(
        Object.keys({ ...m.data, ...m.stringData }).filter((k) => /seed/i.test(k)),
        m.metadata.name,
      ).toEqual([]);
    expect(secrets.find((m) => m.metadata.name === SEED_SECRET)?.stringData).toHaveProperty("seed");

    const keys = workloads.find((w) => w.metadata.name === "keys")!;
    expect(keys.kind).toBe("Deployment");
    expect(seedReaders(keys)).toEqual(["env POOL_MASTER_SEED_FILE", "volume master-seed"]);
    const pod = keys.spec!.template.spec!;
    const c = pod.containers[0]!;
    const file = c.env!.find((e) => e.name === "POOL_MASTER_SEED_FILE")!.value!;
    const mount = c.volumeMounts!.find((m) => file.startsWith(`${m.mountPath}/`))!;
    expect(mount.readOnly).toBe(true);
    const volume = pod.volumes!.find((v) => v.name === mount.name)!;
    expect(volume.secret).toEqual({ secretName: SEED_SECRET, defaultMode: 0o440 });
    expect(file.slice(mount.mountPath.length + 1)).toBe("seed");
    const env = new Map(c.env!.map((e) => [e.name, e]));
    expect(env.get("CLAIMS_URL")?.value).toBe("http://claims:7002");
    expect(env.get("POOL_SERVICE_TOKEN")?.valueFrom?.secretKeyRef).toEqual({ name: "keys-credential", key: "token" });
    const service = manifests.find(
      (m): m is Named<core.IService> => m.kind === "Service" && m.metadata.name === "keys",
    );
    expect(service?.spec?.ports?.[0]?.port).toBe(7005);

    const host = workloads.find((w) => w.metadata.name === "instance-host")!;
    const hostEnv = host.spec!.template.spec!.containers[0]!.env!;
    expect(hostEnv.find((e) => e.name === "POOL_KEYS_URL")?.value).toBe("http://keys:7005");
  });

  it("plays the keys pod on podman with the seed from the same Secret's key, no file and no volume", () => {
    const keys = kubePlan(manifests).find((p) => p.name === "keys")!;
    const spec = keys.doc.kind === "Pod" ? keys.doc.spec! : keys.doc.spec!.template.spec!;
    const c = spec.containers[0]!;
    expect(c.env?.find((e) => e.name === "POOL_MASTER_SEED")?.valueFrom).toEqual({
      secretKeyRef: { name: SEED_SECRET, key: "seed" },
    });
    expect(c.env?.some((e) => e.name === "POOL_MASTER_SEED_FILE")).toBe(false);
    expect(c.volumeMounts ?? []).toEqual([]);
    expect(spec.volumes ?? []).toEqual([]);
  });

  it("plays each host pod on podman with its own credential: the same Secret's key, named after the pod", () => {
    const pods = kubePlan(manifests).filter((p) => p.doc.kind === "Pod");
    expect(pods.map((p) => p.name)).toEqual(["instance-host-0", "instance-host-1"]);
    for (const p of pods) {
      const c = (p.doc as core.IPod).spec!.containers[0];
      expect(c?.env?.find((e) => e.name === "POOL_SERVICE_TOKEN")?.valueFrom).toEqual({
        secretKeyRef: { name: "instance-host-credentials", key: p.name },
      });
      expect(c?.env?.some((e) => e.name === "POOL_SERVICE_TOKEN_FILE")).toBe(false);
    }
  });

  it("runs instance hosts as a StatefulSet with a PodDisruptionBudget and time to drain, and scales the others horizontally", () => {
    const host = manifests.find((m) => m.kind === "StatefulSet")!;
    expect(host.metadata.name).toBe("instance-host");
    expect(host.spec?.template.spec?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    const pdbs = manifests
      .filter((m) => m.kind === "PodDisruptionBudget")
      .map((m) => m.spec?.selector?.matchLabels?.app);
    expect(pdbs).toContain("instance-host");
    const hpas = manifests
      .filter((m) => m.kind === "HorizontalPodAutoscaler")
      .map((m) => m.spec?.scaleTargetRef.name)
      .sort();
    expect(hpas).toEqual(["claims", "gateway", "lineage", "templates"]);
  });
});
