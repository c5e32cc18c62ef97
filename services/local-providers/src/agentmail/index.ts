// A local stand-in of AgentMail's REST API v0 (https://api.agentmail.to),
// the production mailbox provider, which we cannot reach from here: the same
// endpoints, bodies, Bearer keys and `{name, message}` errors, so the claims
// service's provider and the agent's client (instance tools/agentmail.ts)
// work unchanged against either. An inbox's id is its address; the
// organization's key may do anything, an inbox-scoped key only read and send
// for its own inbox. Mail from one inbox here to another is delivered to it
// (label "received"); mail to any other address stays here, in that
// address's outbox, as the local mail server keeps people's mail.
//
// Everything is in memory: a restart forgets the inboxes, their keys and mail.
// The `/local/` routes take no key and answer loopback clients only: a person
// writes to an agent (`POST /local/messages`) and reads its replies
// (`GET /local/outbox/{address}`) with curl.
//
// Its files, one job each: routing.ts (which endpoint a request asks for, and who may take
// it), routes.ts (the endpoints' handlers), post.ts (inboxes, keys, mail and
// its delivery), fields.ts (reading a request), messages.ts (AgentMail's
// JSON), errors.ts.
import { randomBytes } from "node:crypto";
import type { Logger } from "@convos-pool/kit/server";
import { serveJsonApi } from "../json-api.js";
import { API_ERRORS } from "./errors.js";
import { bareAddress } from "./fields.js";
import type { LocalMail } from "./messages.js";
import { Post } from "./post.js";
import { createAgentMailRouter } from "./routes.js";

export type { LocalMail } from "./messages.js";

export interface LocalAgentMailOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The organization's key (`Authorization: Bearer <key>`); default: a fresh one. */
  apiKey?: string;
  /** The inboxes' domain; default "agentmail.localhost". */
  domain?: string;
  log?: Logger;
}

export interface LocalAgentMail {
  /** http://host:port: the API's base, as https://api.agentmail.to is AgentMail's. */
  url: string;
  /** The organization's key. */
  apiKey: string;
  domain: string;
  /** Mail arriving from outside to an inbox here; throws when there is no such inbox. */
  deliver(to: string, mail: { from: string; subject: string; text?: string; html?: string }): LocalMail;
  /** What inboxes here sent to `address` (an address outside the stand-in), oldest first. */
  outbox(address: string): LocalMail[];
  /** The first mail (already, or within `ms`) that reached `address`, an inbox here or an outbox, and that `pred` accepts. */
  waitForMail(address: string, pred?: (m: LocalMail) => boolean, ms?: number): Promise<LocalMail>;
  close(): Promise<void>;
}

export const DEFAULT_AGENTMAIL_DOMAIN = "agentmail.localhost";

export async function startLocalAgentMail(opts: LocalAgentMailOptions = {}): Promise<LocalAgentMail> {
  const host = opts.host ?? "127.0.0.1";
  const apiKey = opts.apiKey ?? `am_local_${randomBytes(24).toString("base64url")}`;
  const log = opts.log;
  const post = new Post((opts.domain ?? DEFAULT_AGENTMAIL_DOMAIN).toLowerCase(), log);

  const api = await serveJsonApi({
    name: "local AgentMail",
    host,
    port: opts.port ?? 0,
    log,
    errors: API_ERRORS,
    route: createAgentMailRouter({ post, apiKey }),
  });
  const url = api.url;
  log?.info("local AgentMail up", { url, domain: post.domain });

  return {
    url,
    apiKey,
    domain: post.domain,
    deliver(to, mail) {
      const inbox = post.inboxes.get(bareAddress(to));
      if (!inbox) throw new Error(`no inbox ${to} in the local AgentMail`);
      if (mail.text === undefined && mail.html === undefined) throw new Error("a mail needs a text or an html body");
      return post.receive(inbox, mail);
    },
    outbox: (address) => post.outbox(address),
    waitForMail: (address, pred = () => true, ms = 10_000) => post.waitFor(address, pred, ms),
    async close() {
      post.close();
      await api.close();
    },
  };
}
