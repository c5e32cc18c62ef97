import { HttpClient, HttpError, type HttpRequest } from "@convos-pool/kit/server";
import { ProvisioningError } from "./types.js";

/** How long one request to a provider's API may take, its retries included. */
export const PROVIDER_REQUEST_TIMEOUT_MS = 15_000;

/** A provider API's answer: its status and its JSON body (`{}` when it had none). */
export interface ProviderAnswer<B> {
  status: number;
  body: B;
}

/**
 * One JSON request to a production provider's REST API with its Bearer key
 * (Telnyx, AgentMail), through the kit's HttpClient. Only a request that got
 * no answer (unreachable, timed out, a success that is not JSON) throws here,
 * as "unavailable" naming the service, never the key; what an answer means
 * is the provider's to say. A GET or DELETE is sent again after a failure
 * that may pass; a POST only with `idempotent` (AgentMail's inbox, made by
 * its client_id), never one that buys.
 */
export async function callProviderApi<B>(
  service: string,
  opts: { apiUrl: string; apiKey: string; backoffMs?: number | undefined },
  method: HttpRequest["method"],
  path: string,
  body?: unknown,
  call: { idempotent?: boolean } = {},
): Promise<ProviderAnswer<B>> {
  const http = new HttpClient({
    service,
    baseUrl: opts.apiUrl,
    token: opts.apiKey,
    timeoutMs: PROVIDER_REQUEST_TIMEOUT_MS,
    backoffMs: opts.backoffMs,
  });
  try {
    const answer = await http.send<B | undefined>({
      method,
      path,
      body,
      ...(call.idempotent ? { retry: "idempotent" as const } : {}),
    });
    // A delete may answer with no body; an error page that is not JSON is told by its status.
    return { status: answer.status, body: (answer.body ?? {}) as B };
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    throw new ProvisioningError(err.rawMessage, "unavailable", { cause: err });
  }
}
