import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { type ClientCredentials, createServiceClient, type ServiceClient } from "@convos-pool/kit/server";

/**
 * One client of one instance-host service per host, made on its first call
 * and kept: each host is one HTTP/2 connection per service, however many of
 * its agents are called.
 */
export class HostClients<S extends DescService> {
  private readonly byHost = new Map<string, ServiceClient<S>>();

  constructor(
    private readonly service: S,
    private readonly credentials: ClientCredentials,
  ) {}

  of(hostUrl: string): Client<S> {
    let c = this.byHost.get(hostUrl);
    if (!c) {
      c = createServiceClient(this.service, hostUrl, this.credentials);
      this.byHost.set(hostUrl, c);
    }
    return c.client;
  }

  /** Closes every host's connection; a later call opens a new one. */
  close(): void {
    for (const c of this.byHost.values()) c.close();
    this.byHost.clear();
  }
}
