// Certificates for tests of TLS: a pool CA with a certificate for localhost
// (server and client use), and an unrelated CA with one of its own, made with
// the `openssl` command line in a temporary directory.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestCertificate {
  cert: string;
  key: string;
}

export interface TestPki {
  /** The pool's CA (PEM). */
  ca: string;
  /** Signed by `ca`, for localhost and 127.0.0.1, usable as server and client. */
  service: TestCertificate;
  /** Another CA, and a certificate it signed: trusted by nobody here. */
  otherCa: string;
  stranger: TestCertificate;
  /** The PEM files, for tlsFromEnv. */
  files: { ca: string; cert: string; key: string };
  close(): Promise<void>;
}

async function authority(dir: string, name: string): Promise<void> {
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    join(dir, `${name}.key`),
    "-out",
    join(dir, `${name}.pem`),
  ]);
}

async function issue(dir: string, ca: string, name: string): Promise<TestCertificate> {
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  await run("openssl", [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    join(dir, `${name}.key`),
    "-out",
    join(dir, `${name}.csr`),
  ]);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    join(dir, `${name}.csr`),
    "-CA",
    join(dir, `${ca}.pem`),
    "-CAkey",
    join(dir, `${ca}.key`),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    ext,
    "-out",
    join(dir, `${name}.pem`),
  ]);
  return {
    cert: await readFile(join(dir, `${name}.pem`), "utf8"),
    key: await readFile(join(dir, `${name}.key`), "utf8"),
  };
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "pool-pki-"));
  try {
    await authority(dir, "pool-ca");
    await authority(dir, "other-ca");
    const service = await issue(dir, "pool-ca", "service");
    const stranger = await issue(dir, "other-ca", "stranger");
    return {
      ca: await readFile(join(dir, "pool-ca.pem"), "utf8"),
      otherCa: await readFile(join(dir, "other-ca.pem"), "utf8"),
      service,
      stranger,
      files: { ca: join(dir, "pool-ca.pem"), cert: join(dir, "service.pem"), key: join(dir, "service.key") },
      close: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
