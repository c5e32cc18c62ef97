/**
 * TEST FIXTURE. What left the instance host for the lineage service's
 * VersionSignalService, byte for byte: an HTTP/2 pass-through that the host
 * is given as its SIGNALS_URL, keeps each request's path and body as it came
 * off the wire, and forwards it unchanged to the lineage service (its
 * answer back unchanged). The hosts' client speaks Connect over HTTP/2 with
 * binary bodies (kit's service-client.ts): a unary call is one body each
 * way and no trailers, which is all this forwards.
 */
import http2 from "node:http2";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  path: string;
  /** The request's body as the host sent it (the serialized message). */
  body: Buffer;
}

export class SignalsRecorder {
  readonly requests: RecordedRequest[] = [];
  private readonly server = http2.createServer();
  private readonly sessions = new Set<http2.Http2Session>();
  private upstreamSession: http2.ClientHttp2Session | undefined;
  url = "";

  /** `upstream`: the lineage service's URL, read at each request (the stack starts it after the host is told this URL). */
  constructor(private readonly upstream: () => string) {
    this.server.on("session", (s) => {
      this.sessions.add(s);
      s.on("close", () => this.sessions.delete(s));
    });
    this.server.on("stream", (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const body = Buffer.concat(chunks);
        this.requests.push({ path: String(headers[":path"]), body });
        this.forward(stream, headers, body);
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private forward(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer): void {
    if (!this.upstreamSession || this.upstreamSession.closed || this.upstreamSession.destroyed) {
      this.upstreamSession = http2.connect(this.upstream());
      this.upstreamSession.on("error", () => undefined);
    }
    const out: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers))
      if (!k.startsWith(":") || k === ":method" || k === ":path") out[k] = v;
    const req = this.upstreamSession.request(out);
    const failed = () => {
      if (!stream.headersSent && !stream.destroyed) stream.respond({ ":status": 502 });
      stream.end();
    };
    req.on("error", failed);
    req.on("response", (h) => {
      const back: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(":") || k === ":status") back[k] = v;
      const answer: Buffer[] = [];
      req.on("data", (c: Buffer) => answer.push(c));
      req.on("end", () => {
        if (stream.destroyed) return;
        stream.respond(back);
        stream.end(Buffer.concat(answer));
      });
    });
    req.end(body);
  }

  async close(): Promise<void> {
    this.upstreamSession?.close();
    for (const s of this.sessions) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
