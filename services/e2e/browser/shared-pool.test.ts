// The tier's phone relay (shared-pool.setup.ts) and a file's phones read
// through it (shared-pool.ts), against the real SMS stand-in: no browser, no
// pool; a phone of the stand-in texts another, as a person's would.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalSms, type LocalSms } from "@convos-pool/local-providers";
import { startPhoneRelay } from "./shared-pool.setup.js";
import { remotePhone } from "./shared-pool.js";

let sms: LocalSms;
let relay: Server;
let url = "";
const hangUp = new AbortController();

beforeAll(async () => {
  sms = await startLocalSms();
  relay = await startPhoneRelay(sms);
  const address = relay.address();
  if (!address || typeof address === "string") throw new Error("the relay has no port");
  url = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  hangUp.abort();
  relay?.closeAllConnections();
  await new Promise((r) => relay?.close(r));
  await sms?.close();
});

it("a phone's texts reach the file as they arrive, those before it asked included, and messages() answers at once", async () => {
  const sender = sms.phone("+15550100001");
  await sender.send("+15550100002", "sent before anyone asked");
  const phone = remotePhone(url, "+15550100002", hangUp.signal);
  await phone.waitForMessage((m) => m.text === "sent before anyone asked");
  await sender.send("+15550100002", "and one after");
  const later = await phone.waitForMessage((m) => m.text === "and one after");
  expect(later).toMatchObject({ from: "+15550100001", to: "+15550100002" });
  expect(phone.messages().map((m) => m.text)).toEqual(["sent before anyone asked", "and one after"]);
});

it("waiting for a text that does not come fails naming the number, and another phone's texts are not its own", async () => {
  const phone = remotePhone(url, "+15550100003", hangUp.signal);
  await sms.phone("+15550100001").send("+15550100004", "not for 0003");
  await expect(phone.waitForMessage(() => true, 300)).rejects.toThrow("no text to +15550100003 within 300 ms");
  expect(phone.messages()).toEqual([]);
});

it("a number that is not one is refused by the relay, and the wait says so", async () => {
  const phone = remotePhone(url, "12", hangUp.signal);
  await expect(phone.waitForMessage(() => true, 5_000)).rejects.toThrow(
    /the phone relay answered 400: .*not a phone number/,
  );
});

it("a relay that hangs up is a failed wait, not a silent one", async () => {
  const closing = createServer((_req, res) => res.writeHead(200).end());
  await new Promise<void>((r) => closing.listen(0, "127.0.0.1", r));
  const address = closing.address();
  if (!address || typeof address === "string") throw new Error("no port");
  const phone = remotePhone(`http://127.0.0.1:${address.port}`, "+15550100005", hangUp.signal);
  await expect(phone.waitForMessage(() => true, 5_000)).rejects.toThrow("the phone relay hung up on +15550100005");
  await new Promise((r) => closing.close(r));
});
