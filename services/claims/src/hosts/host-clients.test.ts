// HostClients over the kit's real service clients; nothing is called, so no
// host answers and no connection is opened (a client connects on its first call).
import { describe, expect, it } from "vitest";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { generateServiceCredentials } from "@convos-pool/kit/server";
import { HostClients } from "./host-clients.js";

const credentials = generateServiceCredentials().claims;

describe("HostClients", () => {
  it("gives the same client for a host each time, and another host its own", () => {
    const clients = new HostClients(InstanceHostService, credentials);
    const a = clients.of("http://127.0.0.1:1");
    expect(clients.of("http://127.0.0.1:1")).toBe(a);
    expect(clients.of("http://127.0.0.1:2")).not.toBe(a);
    clients.close();
  });

  it("makes a new client for a host after it was closed", () => {
    const clients = new HostClients(InstanceHostService, credentials);
    const before = clients.of("http://127.0.0.1:1");
    clients.close();
    expect(clients.of("http://127.0.0.1:1")).not.toBe(before);
    clients.close();
  });
});
