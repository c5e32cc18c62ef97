// What the local stand-ins of outside JSON APIs share (sms/ for Telnyx,
// agentmail/ for AgentMail): an HTTP server that splits the path, hands
// it to the stand-in's router and writes its answer or its error in the
// API's own error shape; reading a JSON object body within a size limit;
// telling loopback callers apart; reading the Bearer key.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sameSecret, type Logger } from "@convos-pool/kit/server";

/** A status and a JSON body (none: an empty answer, as a 204). */
export interface ApiAnswer {
  status: number;
  body?: unknown;
}

/** The API's own errors for what every stand-in refuses the same way. */
export interface ApiErrors {
  /** The stand-in's error, as an answer; undefined for anything else (a bug: 500, logged). */
  answerOf(err: unknown): ApiAnswer | undefined;
  tooLarge(maxBytes: number): Error;
  notJson(): Error;
  notObject(): Error;
  badPath(): ApiAnswer;
  failed(): ApiAnswer;
}

export type JsonObject = Record<string, unknown>;

export interface JsonApiOptions {
  /** For logs: "local SMS", "local AgentMail". */
  name: string;
  host: string;
  /** 0: a free one. */
  port: number;
  log?: Logger | undefined;
  errors: ApiErrors;
  route(req: IncomingMessage, path: string[], query: URLSearchParams): Promise<ApiAnswer>;
}

export interface RunningJsonApi {
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

export async function serveJsonApi(opts: JsonApiOptions): Promise<RunningJsonApi> {
  const { errors, log } = opts;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://local");
    let path: string[];
    try {
      // A `+` may come as itself or as %2B.
      path = url.pathname.split("/").slice(1).map(decodeURIComponent);
    } catch {
      return reply(res, errors.badPath());
    }
    void opts.route(req, path, url.searchParams).then(
      (answer) => reply(res, answer),
      (err: unknown) => {
        const known = errors.answerOf(err);
        if (known) return reply(res, known);
        log?.error(`${opts.name} request failed`, { err });
        reply(res, errors.failed());
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => log?.warn(`${opts.name} server error`, { err }));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function reply(res: ServerResponse, { status, body }: ApiAnswer): void {
  if (body === undefined) res.writeHead(status).end();
  else res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** The body as a JSON object. Past the limit the rest is read and dropped, so the answer reaches a client still sending. */
export async function readJsonObject(req: IncomingMessage, maxBytes: number, errors: ApiErrors): Promise<JsonObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes) throw errors.tooLarge(maxBytes);
  const raw = Buffer.concat(chunks).toString("utf8");
  let body: unknown;
  try {
    body = raw.trim() ? JSON.parse(raw) : {};
  } catch {
    throw errors.notJson();
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw errors.notObject();
  return body as JsonObject;
}

export function isLoopback(address: string | undefined): boolean {
  return address === "::1" || /^(::ffff:)?127\./.test(address ?? "");
}

/** Whether the request carries `Authorization: Bearer <key>`, compared in constant time. */
export function hasBearer(req: IncomingMessage, key: string): boolean {
  return sameSecret(req.headers.authorization ?? "", `Bearer ${key}`);
}

/** The key of an `Authorization: Bearer <key>` header; undefined for no header or another scheme. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization ?? "";
  return auth.startsWith("Bearer ") ? auth.slice(7) : undefined;
}
