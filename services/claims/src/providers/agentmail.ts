// The production mailbox provider: an AgentMail inbox per instance, and a key
// scoped to that inbox, which is all the instance gets: it reads and sends as
// itself, and cannot touch another agent's mail or make inboxes. The
// organization's key stays in the claims service. Release deletes the inbox,
// which deletes its mail and its keys. The tests run it against the local
// stand-in (local-providers agentmail/), which speaks AgentMail's API.
//
// The inbox is made with a client_id derived from the instance id, so a
// provisioning retried after an answer was lost finds the inbox it made
// instead of leaving one behind.
import { callProviderApi, type ProviderAnswer } from "./provider-api.js";
import { ProvisioningError, type ProvisionedResource, type ToolProvider } from "./types.js";

export const AGENTMAIL_API_URL = "https://api.agentmail.to";

export interface AgentMailOptions {
  /** Default https://api.agentmail.to, or the stand-in's url; `/v0/...` is appended. */
  apiUrl?: string | undefined;
  /** The organization's key. A secret: never in errors, never given to instances. */
  apiKey: string;
  /** A domain verified at AgentMail; default AgentMail's own (agentmail.to). */
  domain?: string | undefined;
  /** The wait before a retry, doubled for each next one; default the kit's HttpClient's (tests shorten it). */
  retryBackoffMs?: number | undefined;
}

type Answer = ProviderAnswer<{ name?: string; message?: string } & Record<string, unknown>>;

/** The client_id of an instance's inbox: the same for every try, so a retry gets the same inbox. */
export function inboxClientId(instanceId: string): string {
  return `convos-pool-${instanceId}`;
}

export class AgentMailProvider implements ToolProvider {
  readonly toolId = "email";
  readonly name = "agentmail";
  private readonly apiUrl: string;

  constructor(private readonly opts: AgentMailOptions) {
    this.apiUrl = (opts.apiUrl ?? AGENTMAIL_API_URL).replace(/\/+$/, "");
  }

  async provision(instanceId: string): Promise<ProvisionedResource> {
    const inbox = this.body<{ inbox_id: string }>(
      await this.call(
        "POST",
        "/v0/inboxes",
        { client_id: inboxClientId(instanceId), ...(this.opts.domain ? { domain: this.opts.domain } : {}) },
        // Its client_id makes a second copy give the same inbox: sent again after a failure that may pass.
        { idempotent: true },
      ),
      "to make an inbox",
    );
    if (typeof inbox.inbox_id !== "string" || !inbox.inbox_id)
      throw new ProvisioningError("AgentMail answered without the inbox's id", "unavailable");
    let apiKey: string;
    try {
      const key = this.body<{ api_key?: unknown }>(
        await this.call("POST", `${inboxPath(inbox.inbox_id)}/api-keys`, { name: `convos pool ${instanceId}` }),
        `to make a key for ${inbox.inbox_id}`,
      );
      if (typeof key.api_key !== "string" || !key.api_key)
        throw new ProvisioningError(`AgentMail answered without the key for ${inbox.inbox_id}`, "unavailable");
      apiKey = key.api_key;
    } catch (err) {
      // An inbox no one could use. Should the delete fail too, the next try finds it again by its client_id.
      await this.release(inbox.inbox_id).catch(() => undefined);
      throw err;
    }
    return { handle: inbox.inbox_id, secrets: { api_key: apiKey } };
  }

  async release(handle: string): Promise<void> {
    const answer = await this.call("DELETE", inboxPath(handle));
    if (answer.status !== 404) this.body(answer, `to delete ${handle}`); // 404: gone already
  }

  private call(
    method: "POST" | "DELETE",
    path: string,
    body?: unknown,
    call: { idempotent?: boolean } = {},
  ): Promise<Answer> {
    return callProviderApi(
      "AgentMail",
      { apiUrl: this.apiUrl, apiKey: this.opts.apiKey, backoffMs: this.opts.retryBackoffMs },
      method,
      path,
      body,
      call,
    );
  }

  /** The answer's body, or why AgentMail refused; `what` completes "AgentMail refused ...". */
  private body<T>(answer: Answer, what: string): T {
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    if (answer.status === 401) throw new ProvisioningError("AgentMail refused the API key", "unavailable");
    if (answer.status === 429)
      throw new ProvisioningError(`AgentMail is rate-limiting us; it refused ${what}`, "unavailable");
    const words = [answer.body.name, answer.body.message].filter(
      (s): s is string => typeof s === "string" && s.length > 0,
    );
    // Masked should AgentMail ever echo the key.
    const reason = (words.length ? words.join(": ") : `HTTP ${answer.status}`).replaceAll(
      this.opts.apiKey,
      "[the API key]",
    );
    throw new ProvisioningError(`AgentMail refused ${what}: ${reason}`, "unavailable");
  }
}

const inboxPath = (inboxId: string) => `/v0/inboxes/${encodeURIComponent(inboxId)}`;
