// The image's HEALTHCHECK: grpc.health.v1.Health/Check for the whole server
// ("") on this container's PORT, as a Kubernetes gRPC probe asks it. Exits 0
// when the answer is SERVING, 1 otherwise. Plain node:http2 and the gRPC wire
// format by hand, so that a check every few seconds loads nothing else.
// With POOL_TLS_* set (docs/security.md, "Transport") it speaks TLS, checked
// against the pool's CA, and presents the service's certificate under mutual TLS.
import { readFileSync } from "node:fs";
import { connect } from "node:http2";

const env = process.env;
const port = Number(env.PORT ?? process.argv[2] ?? 8080);
const tls = Boolean(env.POOL_TLS_CERT && env.POOL_TLS_KEY && env.POOL_TLS_CA);
const session = connect(
  `${tls ? "https" : "http"}://127.0.0.1:${port}`,
  tls
    ? {
        ca: readFileSync(env.POOL_TLS_CA),
        // The certificate names the service, not 127.0.0.1: the CA alone is checked.
        checkServerIdentity: () => undefined,
        ...(env.POOL_TLS_MUTUAL === "true"
          ? { cert: readFileSync(env.POOL_TLS_CERT), key: readFileSync(env.POOL_TLS_KEY) }
          : {}),
      }
    : {},
);
const fail = (why) => {
  console.error(`unhealthy: ${why}`);
  process.exit(1);
};
setTimeout(() => fail("no answer in 4 s"), 4_000).unref();
session.on("error", (err) => fail(err.message));
const req = session.request({
  ":method": "POST",
  ":path": "/grpc.health.v1.Health/Check",
  "content-type": "application/grpc",
  te: "trailers",
});
const chunks = [];
req.on("data", (c) => chunks.push(c));
req.on("trailers", (trailers) => {
  const body = Buffer.concat(chunks);
  // One message frame (flag, length, HealthCheckResponse); field 1 varint 1: SERVING.
  const message = body.subarray(5);
  if (trailers["grpc-status"] !== "0") fail(`grpc-status ${trailers["grpc-status"]} ${trailers["grpc-message"] ?? ""}`);
  if (message[0] !== 0x08 || message[1] !== 0x01) fail(`status ${message[1] ?? "UNKNOWN"}`);
  session.close();
  process.exit(0);
});
req.on("error", (err) => fail(err.message));
// An empty HealthCheckRequest: the server as a whole.
req.end(Buffer.from([0, 0, 0, 0, 0]));
