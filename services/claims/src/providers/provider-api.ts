import { ProvisioningError } from "./types.js";

/** How long one request to a provider's API may take. */
export const PROVIDER_REQUEST_TIMEOUT_MS = 15_000;

/** A provider API's answer: its status and its JSON body (`{}` when it had none). */
export interface ProviderAnswer<B> {
  status: number;
  body: B;
}

/**
 * One JSON request to a production provider's REST API with its Bearer key
 * (Telnyx, AgentMail). Only a request that got no answer (unreachable, timed
 * out, not JSON) throws here, as "unavailable" naming the service, never the
 * key; what an answer means is the provider's to say.
 */
export async function callProviderApi<B>(
  service: string,
  opts: { apiUrl: string; apiKey: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<ProviderAnswer<B>> {
  let res: Response;
  try {
    res = await fetch(`${opts.apiUrl}${path}`, {
      method,
      headers: {
        accept: "application/json",
        authorization: `Bearer ${opts.apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(PROVIDER_REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const timedOut = err instanceof Error && err.name === "TimeoutError";
    throw new ProvisioningError(
      timedOut
        ? `${service} did not answer within ${PROVIDER_REQUEST_TIMEOUT_MS} ms`
        : `${service} could not be reached`,
      "unavailable",
      { cause: err },
    );
  }
  const raw = await res.text().catch(() => "");
  try {
    // A delete may answer with no body.
    return { status: res.status, body: (raw ? JSON.parse(raw) : {}) as B };
  } catch {
    throw new ProvisioningError(
      `${service} answered HTTP ${res.status} with something that is not JSON`,
      "unavailable",
    );
  }
}
