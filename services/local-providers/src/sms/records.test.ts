// Telnyx's JSON for the stand-in's data: pure functions, no server.
import { describe, expect, it } from "vitest";
import { outboundRecord, paged, receivedEvent } from "./records.js";

const text = { id: "m1", from: "+15550100000", to: "+15550100001", text: "hi", encoding: "GSM-7", parts: 1 };

describe("Telnyx's records", () => {
  it("writes a text sent as a queued outbound message from the sender's profile", () => {
    expect(outboundRecord(text, "p1", "2026-01-01T00:00:00.000Z")).toMatchObject({
      record_type: "message",
      id: "m1",
      direction: "outbound",
      messaging_profile_id: "p1",
      from: { phone_number: "+15550100000" },
      to: [{ phone_number: "+15550100001", status: "queued" }],
      text: "hi",
      encoding: "GSM-7",
      parts: 1,
      errors: [],
    });
  });

  it("writes a text received as a message.received event with the inbound message as its payload", () => {
    const event = receivedEvent(text, null, "e1", "2026-01-01T00:00:00.000Z");
    expect(event).toMatchObject({ event_type: "message.received", id: "e1", record_type: "event" });
    expect(event.payload).toMatchObject({
      id: "m1",
      direction: "inbound",
      messaging_profile_id: null,
      to: [{ phone_number: "+15550100001", status: "webhook_delivered" }],
      received_at: "2026-01-01T00:00:00.000Z",
    });
  });
});

describe("paged", () => {
  const all = Array.from({ length: 45 }, (_, i) => i);

  it("gives pages of 20 by default, the first unless asked, with Telnyx's meta", () => {
    expect(paged(all, new URLSearchParams())).toEqual({
      data: all.slice(0, 20),
      meta: { page_number: 1, page_size: 20, total_pages: 3, total_results: 45 },
    });
    expect(paged(all, new URLSearchParams("page[size]=20&page[number]=3")).data).toEqual(all.slice(40));
  });

  it("keeps the page size within 1 and 250 and the page number at least 1", () => {
    expect(paged(all, new URLSearchParams("page[size]=1000")).meta.page_size).toBe(250);
    expect(paged(all, new URLSearchParams("page[size]=-3")).meta.page_size).toBe(1);
    expect(paged(all, new URLSearchParams("page[number]=0")).meta.page_number).toBe(1);
  });
});
