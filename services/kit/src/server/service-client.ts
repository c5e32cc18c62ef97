import type * as http2 from "node:http2";
import { createClient, type Client } from "@connectrpc/connect";
import { Http2SessionManager, createConnectTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { serviceCredentialClientInterceptor, type ClientCredentials } from "./auth.js";
import { deadlineClock, withCallerDeadline } from "./overload/deadline.js";
import { ClientThrottle, throttled } from "./overload/throttle.js";
import { tracingClientInterceptor } from "./tracing.js";

export interface ServiceClient<S extends DescService> {
  client: Client<S>;
  /** Closes the HTTP/2 connection. */
  close(): void;
}

/**
 * A client of another pool service, presenting this service's credential.
 * With TLS configured the URL must be https: the peer is checked against the
 * pool's CA, and with mutual TLS this service's certificate is presented.
 * Internal calls stay on one machine or one cluster network: no compression
 * (gzip of a page of templates costs more than sending it).
 *
 * The Connect protocol with binary protobuf over HTTP/2, which every kit
 * server speaks beside gRPC: the same contract, messages and errors, for
 * about two thirds of the CPU of a gRPC call on both ends (no envelope and
 * trailers for a unary call; measured in docs/decisions.md, "Internal calls
 * speak the Connect protocol"). gRPC clients from outside (buf curl,
 * grpcurl, other languages) are still served.
 *
 * A call made while serving a call with a deadline carries what is left of
 * it, and is not sent once it has passed (overload/deadline.ts). When the
 * service refuses much of what it is sent, the client refuses some calls
 * itself at no cost to the service (overload/throttle.ts).
 */
export function createServiceClient<S extends DescService>(
  service: S,
  url: string,
  credentials: ClientCredentials,
): ServiceClient<S> {
  const tls = credentials.tls;
  if (tls && !url.startsWith("https:")) throw new Error(`TLS is configured, so ${url} must be an https:// URL`);
  const sessions = new Http2SessionManager(
    url,
    { idleConnectionTimeoutMs: 60_000 },
    tls ? { ca: tls.ca, ...(tls.mutual ? { cert: tls.cert, key: tls.key } : {}) } : undefined,
  );
  const transport = createConnectTransport({
    baseUrl: url,
    httpVersion: "2",
    useBinaryFormat: true,
    sessionManager: new GoawaySafeSessionManager(sessions),
    interceptors: [tracingClientInterceptor(), serviceCredentialClientInterceptor(credentials.token)],
    acceptCompression: [],
  });
  // The deadline outermost: a call not sent for a passed deadline says nothing of the service's load.
  const guarded = withCallerDeadline(throttled(transport, new ClientThrottle(deadlineClock)));
  return { client: createClient(service, guarded), close: () => sessions.abort() };
}

/**
 * Works around connectrpc/connect-es#1768 (open in connect-node 2.2.0): when
 * the upstream service shuts down (GOAWAY on an idle connection), the session
 * manager destroys the session with an error that Node raises after the
 * manager removed its listeners, an uncaught exception that would take the
 * caller down. Every session gets a listener that swallows it; the manager's
 * own listeners still see every error.
 */
class GoawaySafeSessionManager
  implements Pick<Http2SessionManager, "authority" | "request" | "notifyResponseByteRead">
{
  private readonly guarded = new WeakSet<http2.Http2Session>();

  constructor(private readonly inner: Http2SessionManager) {}

  get authority(): string {
    return this.inner.authority;
  }

  async request(
    method: string,
    path: string,
    headers: http2.OutgoingHttpHeaders,
    options: Omit<http2.ClientSessionRequestOptions, "signal">,
  ): Promise<http2.ClientHttp2Stream> {
    const stream = await this.inner.request(method, path, headers, options);
    const session = stream.session;
    if (session && !this.guarded.has(session)) {
      this.guarded.add(session);
      session.on("error", () => {});
    }
    return stream;
  }

  notifyResponseByteRead(stream: http2.ClientHttp2Stream): void {
    this.inner.notifyResponseByteRead(stream);
  }
}
