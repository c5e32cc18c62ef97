// The test model's server (chat-server.ts): its model list, asked as `npm start` asks an endpoint for it. A real HTTP server in this process.
import { afterEach, describe, expect, it } from "vitest";
import { startChatServer, type ChatServer } from "./chat-server.js";

const servers: ChatServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe("startChatServer", () => {
  it("lists the models it is given at GET /v1/models, and none (not found) when given none", async () => {
    const listing = await startChatServer(() => "hi", 0, { models: ["gpt-oss-20b", "gpt-oss-120b"] });
    const bare = await startChatServer(() => "hi");
    servers.push(listing, bare);
    const res = await fetch(`${listing.baseUrl}/models`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual([
      "gpt-oss-20b",
      "gpt-oss-120b",
    ]);
    expect((await fetch(`${bare.baseUrl}/models`)).status).toBe(404);
    expect(listing.requests).toEqual([]);
  });
});
