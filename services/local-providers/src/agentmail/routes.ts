// The HTTP API: each endpoint's handler over the post office, once
// routing.ts has named the endpoint a request asks for and whether the
// caller's key may take it.
import type { IncomingMessage } from "node:http";
import { bearerToken, hasBearer, isLoopback, readJsonObject, type ApiAnswer } from "../json-api.js";
import { API_ERRORS, forbidden, invalid, notFound, notLoopback, unauthorized } from "./errors.js";
import { bareAddress, firstAddress, mailBodyFields, MAX_BODY_BYTES, optionalString, pageQueryOf } from "./fields.js";
import { inboxRecord, pageOf, type Inbox } from "./messages.js";
import { hashOf, type Post } from "./post.js";
import { agentMailRouteOf, mayTake, type Caller } from "./routing.js";

export interface AgentMailRouterDeps {
  post: Post;
  /** The organization's key. */
  apiKey: string;
}

export function createAgentMailRouter({ post, apiKey }: AgentMailRouterDeps) {
  function inboxOf(id: string): Inbox {
    const inbox = post.inboxes.get(id.toLowerCase());
    if (!inbox) throw notFound(`inbox ${id}`);
    return inbox;
  }

  function caller(req: IncomingMessage): Caller {
    if (hasBearer(req, apiKey)) return { org: true };
    const token = bearerToken(req);
    const scoped = token !== undefined ? post.keys.get(hashOf(token)) : undefined;
    if (scoped) return { org: false, inboxId: scoped.inbox_id };
    throw unauthorized();
  }

  /** Each send's answer by its inbox and Idempotency-Key, until the stand-in stops. */
  const sent = new Map<string, unknown>();
  return async function route(req: IncomingMessage, path: string[], query: URLSearchParams): Promise<ApiAnswer> {
    const method = req.method ?? "GET";
    const body = () => readJsonObject(req, MAX_BODY_BYTES, API_ERRORS);
    const ok = (answer: unknown): ApiAnswer => ({ status: 200, body: answer });
    const r = agentMailRouteOf(method, path);

    switch (r.kind) {
      case "localSend":
      case "localOutbox":
      case "localUnknown":
        if (!isLoopback(req.socket.remoteAddress)) throw notLoopback();
        break;
      case "outside":
        throw notFound(`route ${method} ${req.url ?? ""}`);
      default:
        if (!mayTake(caller(req), r)) throw forbidden();
    }

    switch (r.kind) {
      case "localSend": {
        const b = await body();
        const to = firstAddress(b, "to");
        const from = firstAddress(b, "from");
        const { text, html } = mailBodyFields(b);
        const inbox = inboxOf(bareAddress(to));
        const mail = post.receive(inbox, { from, subject: optionalString(b, "subject") ?? "", text, html });
        return ok({ message_id: mail.messageId, thread_id: mail.threadId });
      }
      case "localOutbox": {
        const messages = post.outbox(r.address);
        return ok({ count: messages.length, messages });
      }
      case "createInbox":
        return ok(inboxRecord(post.createInbox(await body())));
      case "getInbox":
        return ok(inboxRecord(inboxOf(r.inboxId)));
      case "deleteInbox":
        post.deleteInbox(inboxOf(r.inboxId));
        return { status: 204 };
      case "createKey": {
        const inbox = inboxOf(r.inboxId);
        const name = optionalString(await body(), "name", 200);
        if (!name) throw invalid("name", "is required");
        return ok(post.createKey(inbox, name));
      }
      case "deleteKey":
        post.deleteKey(inboxOf(r.inboxId), r.keyId);
        return { status: 204 };
      case "unknownKeyRoute":
        inboxOf(r.inboxId);
        break;
      case "sendMessage": {
        const inbox = inboxOf(r.inboxId);
        // AgentMail's Idempotency-Key: the same key again, from the same inbox, is answered as the first, sending nothing.
        const key = req.headers["idempotency-key"];
        const once = typeof key === "string" ? `${inbox.inbox_id} ${key}` : undefined;
        const before = once ? sent.get(once) : undefined;
        if (before) return ok(before);
        const answer = post.send(inbox, await body());
        if (once) sent.set(once, answer);
        return ok(answer);
      }
      case "listMessages":
        return ok(pageOf(inboxOf(r.inboxId).messages, pageQueryOf(query)));
      case "getMessage": {
        const message = [...inboxOf(r.inboxId).messages].reverse().find((m) => m.message_id === r.messageId);
        if (!message) throw notFound(`message ${r.messageId}`);
        return ok(message);
      }
    }
    throw notFound(`route ${method} ${req.url ?? ""}`);
  };
}
