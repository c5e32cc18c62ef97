import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  PRINCIPALS,
  ServiceDirectory,
  generateServiceCredentials,
  hostCredentials,
  serviceCredentialsFromEnv,
  serviceEnv,
  tokenDigest,
  withHostCredential,
} from "./auth.js";

describe("service credentials", () => {
  it("a directory knows each principal by its token's digest, and prints and parses back the same", () => {
    const creds = generateServiceCredentials();
    const dir = creds.gateway.directory;
    for (const p of PRINCIPALS) expect(dir.principalOf(creds[p].token), p).toBe(p);
    expect(dir.principalOf("not a token")).toBeUndefined();
    const again = ServiceDirectory.parse(dir.toString());
    for (const p of PRINCIPALS) expect(again.principalOf(creds[p].token)).toBe(p);
    // Several credentials of one principal (hosts, a rotation); spaces and case do not matter.
    const two = ServiceDirectory.parse(
      ` instance-host=${tokenDigest("a").toUpperCase()} , instance-host=${tokenDigest("b")}`,
    );
    expect([two.principalOf("a"), two.principalOf("b")]).toEqual(["instance-host", "instance-host"]);
  });

  it("knows a host's own credential by its address, as the instance-host principal; the shared one names no host", () => {
    const hosts = ["http://127.0.0.1:7100", "https://host-2.pool.example/?a=b"];
    const creds = generateServiceCredentials(undefined, hosts);
    for (const dir of [creds.claims.directory, ServiceDirectory.parse(creds.claims.directory.toString())]) {
      for (const url of hosts) {
        const token = hostCredentials(creds, url).token;
        expect(dir.principalOf(token)).toBe("instance-host");
        expect(dir.hostOf(token)).toBe(url);
      }
      expect(dir.principalOf(creds["instance-host"].token)).toBe("instance-host");
      expect(dir.hostOf(creds["instance-host"].token)).toBeUndefined();
      expect(dir.hostOf(creds.claims.token)).toBeUndefined();
    }
    expect(hostCredentials(creds, hosts[0]!).token).not.toBe(hostCredentials(creds, hosts[1]!).token);
  });

  it("adds a host's own credential to a set made before its address was known, keeping every other token", () => {
    const creds = generateServiceCredentials(undefined, ["http://127.0.0.1:7100"]);
    const url = "http://127.0.0.1:7200";
    const more = withHostCredential(creds, url);
    expect(withHostCredential(more, url), "a host already named is kept").toBe(more);
    const token = hostCredentials(more, url).token;
    for (const c of [more.claims, more.keys, hostCredentials(more, url)]) {
      expect(c.directory.hostOf(token)).toBe(url);
      expect(c.directory.hostOf(hostCredentials(more, "http://127.0.0.1:7100").token)).toBe("http://127.0.0.1:7100");
    }
    for (const p of PRINCIPALS) expect(more[p].token, p).toBe(creds[p].token);
    expect(creds.claims.directory.hostOf(token), "the old set is left as it was").toBeUndefined();
  });

  it("names the bad entry of a directory, and never prints a digest", () => {
    const d = tokenDigest("secret");
    const cases: [string, RegExp][] = [
      [`gateway=${d},nobody=${d}`, /entry 2 must be <principal>=<sha256 hex>/],
      [`gateway`, /entry 1 must be <principal>=<sha256 hex>/],
      [`gateway=abc`, /the digest of gateway is not 64 lower-case hex characters/],
      [`gateway=${d},claims=${d}`, /claims and gateway have the same credential/],
      [`instance-host@=${d}`, /entry 1 must be <principal>=<sha256 hex>/],
      [`instance-host@http://a b=${d}`, /entry 1 must be <principal>=<sha256 hex>/],
      [
        `instance-host@http://a=${d},instance-host@http://b=${d}`,
        /instance-host@http:\/\/b and instance-host@http:\/\/a have the same/,
      ],
      [`instance-host=${d},instance-host@http://a=${d}`, /have the same credential/],
    ];
    for (const [text, message] of cases) {
      let err: Error | undefined;
      try {
        ServiceDirectory.parse(text);
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message, text).toMatch(message);
      expect(err?.message).not.toContain(d);
    }
  });

  it("serviceCredentialsFromEnv takes the service's own token, checked against the directory, and TLS when given", () => {
    const creds = generateServiceCredentials();
    expect(serviceCredentialsFromEnv("claims", serviceEnv(creds.claims))).toMatchObject({ token: creds.claims.token });
    expect(
      serviceCredentialsFromEnv("claims", serviceEnv(creds.claims)).directory.principalOf(creds.gateway.token),
    ).toBe("gateway");
    expect(() => serviceCredentialsFromEnv("claims", {})).toThrow(
      /POOL_SERVICE_TOKEN \(or POOL_SERVICE_TOKEN_FILE\) is required/,
    );
    expect(() => serviceCredentialsFromEnv("claims", { POOL_SERVICE_TOKEN: creds.claims.token })).toThrow(
      /POOL_SERVICE_DIGESTS is required/,
    );
    expect(() => serviceCredentialsFromEnv("claims", serviceEnv(creds.gateway))).toThrow(
      "POOL_SERVICE_TOKEN is the gateway credential, not the claims's",
    );
    const other = generateServiceCredentials();
    expect(() =>
      serviceCredentialsFromEnv("claims", { ...serviceEnv(creds.claims), POOL_SERVICE_TOKEN: other.claims.token }),
    ).toThrow("POOL_SERVICE_TOKEN is not in POOL_SERVICE_DIGESTS as claims");
    expect(() => serviceCredentialsFromEnv("claims", { ...serviceEnv(creds.claims), POOL_TLS_CERT: "/x.pem" })).toThrow(
      /TLS needs POOL_TLS_KEY and POOL_TLS_CA too/,
    );
    // A token from a file (a mounted secret), named in the error when it cannot be read.
    const dir = mkdtempSync(join(tmpdir(), "pool-token-"));
    writeFileSync(join(dir, "token"), `${creds.claims.token}\n`);
    const fromFile = {
      POOL_SERVICE_TOKEN_FILE: join(dir, "token"),
      POOL_SERVICE_DIGESTS: creds.claims.directory.toString(),
    };
    expect(serviceCredentialsFromEnv("claims", fromFile).token).toBe(creds.claims.token);
    expect(() =>
      serviceCredentialsFromEnv("claims", { ...fromFile, POOL_SERVICE_TOKEN_FILE: join(dir, "none") }),
    ).toThrow(`POOL_SERVICE_TOKEN_FILE ${join(dir, "none")} cannot be read (ENOENT)`);
    // No message carries a token.
    for (const env of [
      serviceEnv(creds.gateway),
      { ...serviceEnv(creds.claims), POOL_SERVICE_TOKEN: other.claims.token },
    ]) {
      try {
        serviceCredentialsFromEnv("claims", env);
      } catch (e) {
        expect((e as Error).message).not.toContain(env.POOL_SERVICE_TOKEN);
      }
    }
  });
});
