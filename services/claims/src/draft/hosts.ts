// Which host answers a test chat: the pool's hosts in turn, the next one
// when a host cannot (away, or of OpenClaw's runtime, which answers
// FAILED_PRECONDITION). Each client is made once and kept.
import { Code, ConnectError } from "@connectrpc/connect";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { createServiceClient, type ClientCredentials, type ServiceClient } from "@convos-pool/kit/server";
import type { DraftHost } from "./service.js";

/** A model's answer may take a while; longer is no test chat. */
const ANSWER_TIMEOUT_MS = 60_000;

export function draftHost(hostUrls: readonly string[], credentials: ClientCredentials): DraftHost {
  const clients = new Map<string, ServiceClient<typeof InstanceHostService>>();
  let next = 0;
  return async (content, lines, signal) => {
    if (hostUrls.length === 0)
      throw new ConnectError("this pool has no instance host to answer a test chat", Code.Unavailable);
    for (let i = 0; i < hostUrls.length; i++) {
      const url = hostUrls[(next + i) % hostUrls.length] as string;
      let c = clients.get(url);
      if (!c) {
        c = createServiceClient(InstanceHostService, url, credentials);
        clients.set(url, c);
      }
      try {
        const res = await c.client.tryDraft({ content, lines: [...lines] }, { timeoutMs: ANSWER_TIMEOUT_MS, signal });
        next = (next + i + 1) % hostUrls.length;
        if (!res.answer) throw new ConnectError("the host answered without an answer", Code.Internal);
        return res.answer;
      } catch (err) {
        const e = ConnectError.from(err);
        // The draft itself was refused: another host would refuse it too.
        if (e.code === Code.InvalidArgument) throw e;
      }
    }
    // Not the hosts' own words: they may name internal addresses.
    throw new ConnectError("no instance host could answer the test chat; try again in a minute", Code.Unavailable);
  };
}
