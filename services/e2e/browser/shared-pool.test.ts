// The set-up's server of the tier's one pool (shared-pool.setup.ts) and what a
// file reads through it (shared-pool.ts), against the real SMS stand-in: no
// browser, and a pool that is a promise the test settles (its addresses made
// up); a phone of the stand-in texts another, as a person's would.
import { createServer } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { newIdentity } from "@convos-pool/kit/testing";
import { startLocalSms, type LocalSms } from "@convos-pool/local-providers";
import type { StartedPool } from "./browser-pool.js";
import { startControl } from "./shared-pool.setup.js";
import { openSharedPool, remotePhone, type SharedPoolAddresses } from "./shared-pool.js";

const ADDRESSES: SharedPoolAddresses = {
  gatewayUrl: "http://127.0.0.1:1",
  chainRpcUrl: "http://127.0.0.1:2",
  xmtpPort: 3,
  templatesDatabaseUrl: "postgres://t",
  claimsDatabaseUrl: "postgres://c",
  lineageDatabaseUrl: "postgres://l",
};
let sms: LocalSms;
let control: { url: string; close(): Promise<void> };
const hangUp = new AbortController();

beforeAll(async () => {
  sms = await startLocalSms();
  control = await startControl(Promise.resolve({ addresses: ADDRESSES, sms, close: async () => undefined }));
});

afterAll(async () => {
  hangUp.abort();
  await control?.close();
  await sms?.close();
});

it("a file asking for the pool while it starts waits until it is up, and then has its addresses", async () => {
  let up: (pool: StartedPool) => void = () => undefined;
  const starting = startControl(new Promise<StartedPool>((resolve) => (up = resolve)));
  const later = await starting;
  let answered = false;
  const asked = openSharedPool(later.url, newIdentity()).finally(() => (answered = true));
  // A fixed wait, as the scenario: nothing answers in it while the pool is still starting.
  await new Promise((r) => setTimeout(r, 200));
  expect(answered).toBe(false);
  up({ addresses: ADDRESSES, sms, close: async () => undefined });
  const pool = await asked;
  expect(pool).toMatchObject(ADDRESSES);
  await pool.close();
  await later.close();
});

it("a pool that did not start fails the file's set-up with the reason", async () => {
  const failed = await startControl(Promise.reject(new Error("PostgreSQL is not there")));
  await expect(openSharedPool(failed.url, newIdentity())).rejects.toThrow(
    "the browser tier's pool did not start: Error: PostgreSQL is not there",
  );
  await failed.close();
});

it("a phone's texts reach the file as they arrive, those before it asked included, and messages() answers at once", async () => {
  const sender = sms.phone("+15550100001");
  await sender.send("+15550100002", "sent before anyone asked");
  const phone = remotePhone(control.url, "+15550100002", hangUp.signal);
  await phone.waitForMessage((m) => m.text === "sent before anyone asked");
  await sender.send("+15550100002", "and one after");
  const later = await phone.waitForMessage((m) => m.text === "and one after");
  expect(later).toMatchObject({ from: "+15550100001", to: "+15550100002" });
  expect(phone.messages().map((m) => m.text)).toEqual(["sent before anyone asked", "and one after"]);
});

it("waiting for a text that does not come fails naming the number, and another phone's texts are not its own", async () => {
  const phone = remotePhone(control.url, "+15550100003", hangUp.signal);
  await sms.phone("+15550100001").send("+15550100004", "not for 0003");
  await expect(phone.waitForMessage(() => true, 300)).rejects.toThrow("no text to +15550100003 within 300 ms");
  expect(phone.messages()).toEqual([]);
});

it("a number that is not one is refused by the relay, and the wait says so", async () => {
  const phone = remotePhone(control.url, "12", hangUp.signal);
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
