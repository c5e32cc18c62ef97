// `npm run -s credentials`: a fresh set of service credentials for a
// deployment, as environment lines (deploy/compose.yaml reads these names;
// deploy/k8s/pool.yaml wants each token in its service's Secret and the
// digests in the "pool" ConfigMap). docs/security.md says who may call what.
import { PRINCIPALS, generateServiceCredentials } from "@convos-pool/kit/server";

const creds = generateServiceCredentials();
const envName = (p: string) => `${p.toUpperCase().replace(/-/g, "_")}_SERVICE_TOKEN`;
process.stdout.write(
  [
    "# Service credentials (docs/security.md). Each token is its service's secret: give it to that service",
    "# only (as POOL_SERVICE_TOKEN). The digests are not secrets: every service gets POOL_SERVICE_DIGESTS.",
    ...PRINCIPALS.map((p) => `${envName(p)}=${creds[p].token}`),
    `POOL_SERVICE_DIGESTS=${creds.gateway.directory.toString()}`,
    "",
  ].join("\n"),
);
