// `npm run -s credentials [host-url ...]`: a fresh set of service credentials
// for a deployment, as environment lines (deploy/compose.yaml reads these
// names; deploy/k8s/pool.yaml wants each token in its service's Secret and the
// digests in the "pool" ConfigMap). Each instance host gets a credential of its
// own, bound to its address as the claims service's INSTANCE_HOST_URLS names it
// (default: compose.yaml's two hosts): INSTANCE_HOST_SERVICE_TOKEN for the
// first, INSTANCE_HOST_2_SERVICE_TOKEN for the second, and so on.
// docs/security.md says who may call what.
import { PRINCIPALS, generateServiceCredentials, hostCredentials } from "@convos-pool/kit/server";

const COMPOSE_HOSTS = ["http://instance-host:7100", "http://instance-host-2:7100"];

const hosts = process.argv.slice(2);
const urls = hosts.length > 0 ? hosts : COMPOSE_HOSTS;
for (const url of urls) {
  if (!/^https?:\/\/[^\s,]+$/.test(url)) {
    process.stderr.write(
      `credentials: "${url}" is not a host's address (http://name:port, as INSTANCE_HOST_URLS names it)\n`,
    );
    process.exit(2);
  }
}
const creds = generateServiceCredentials(undefined, urls);
const envName = (p: string) => `${p.toUpperCase().replace(/-/g, "_")}_SERVICE_TOKEN`;
const hostEnvName = (i: number) => (i === 0 ? "INSTANCE_HOST_SERVICE_TOKEN" : `INSTANCE_HOST_${i + 1}_SERVICE_TOKEN`);
process.stdout.write(
  [
    "# Service credentials (docs/security.md). Each token is its service's secret: give it to that service",
    "# only (as POOL_SERVICE_TOKEN). The digests are not secrets: every service gets POOL_SERVICE_DIGESTS.",
    ...PRINCIPALS.filter((p) => p !== "instance-host").map((p) => `${envName(p)}=${creds[p].token}`),
    ...urls.flatMap((url, i) => [
      `# the instance host ${url}`,
      `${hostEnvName(i)}=${hostCredentials(creds, url).token}`,
    ]),
    `POOL_SERVICE_DIGESTS=${creds.gateway.directory.toString()}`,
    "",
  ].join("\n"),
);
