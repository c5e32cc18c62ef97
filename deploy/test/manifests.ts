// The documents of deploy/k8s/, typed as the Kubernetes API types them
// (kubernetes-models' interfaces), for the tests that read them. Every one of
// ours is named; the rest is as the API has it, optional where the API's is.
import { readFileSync } from "node:fs";
import type { IDeployment, IStatefulSet } from "kubernetes-models/apps/v1";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1";
import type { IConfigMap, ISecret, IService } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";

export type Named<T extends { metadata?: object }> = T & { metadata: NonNullable<T["metadata"]> & { name: string } };

export type Workload = Named<IDeployment> | Named<IStatefulSet>;
export type Manifest =
  | Workload
  | Named<IService>
  | Named<IConfigMap>
  | Named<ISecret>
  | Named<IPodDisruptionBudget>
  | Named<IHorizontalPodAutoscaler>;

/** A manifest file's documents. The tests that read them check them against the API's schemas (k8s.test.ts). */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest)
    .filter(Boolean);
}

export const loadManifests = (file: string): Manifest[] => parseManifests(readFileSync(file, "utf8"));

export const isWorkload = (m: Manifest): m is Workload => m.kind === "Deployment" || m.kind === "StatefulSet";
