// The owner's address book's policy (policy.ts), pure: the save requests
// read from texts, and what the owner's question shows back. Nothing here is
// a stand-in; the store is store.test.ts's, the question in the conversation
// agent/conversation/address-book-requests.test.ts's.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { MAX_SAVE_REQUESTS, saveRequestsIn, saveStatement } from "./policy.js";

const ANA = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const BOB = "0x2546BcD3c84621e976D8185a91A922aE77ECEc30";

describe("save requests in the owner's words", () => {
  const read = (text: string) => saveRequestsIn(text);

  it("reads the request, its kind from its word, the value normalized", () => {
    expect(read(`save Ana's wallet as ${ANA.toLowerCase()}`)).toEqual([{ name: "Ana", kind: "address", value: ANA }]);
    expect(read("save Bob's number: +1 555 010 0111")).toEqual([{ name: "Bob", kind: "phone", value: "+15550100111" }]);
    expect(read("add my accountant's mail acct@example.com to my address book")).toEqual([
      { name: "accountant", kind: "mailbox", value: "acct@example.com" },
    ]);
    expect(read("Please save Ana’s email address: Ana@Example.com.")).toEqual([
      { name: "Ana", kind: "mailbox", value: "ana@example.com" },
    ]);
    expect(read(`save ${ANA} as Ana Lee's wallet address`)).toEqual([{ name: "Ana Lee", kind: "address", value: ANA }]);
    expect(read("ok, add Dr Lee's phone +44 20 7946 0958 to my contacts, thanks")).toEqual([
      { name: "Dr Lee", kind: "phone", value: "+442079460958" },
    ]);
    expect(read(`Thanks! Save Ana's wallet = ${ANA}. Also store James' cell +1 555 010 0112.`)).toEqual([
      { name: "Ana", kind: "address", value: ANA },
      { name: "James", kind: "phone", value: "+15550100112" },
    ]);
  });

  it("reads none in a question, after don't or never, in a quote, in a link, or anywhere but the request", () => {
    const none = [
      `save Ana's wallet as ${ANA}?`,
      "save Ana's mail as ana@example.com?",
      "save Ana's mail as ana@example.com ?",
      `can you save Ana's wallet as ${ANA}`,
      `should I save Ana's wallet as ${ANA}`,
      `don't save Ana's wallet as ${ANA}`,
      `please don't save Ana's wallet as ${ANA}`,
      `never save Ana's wallet as ${ANA}`,
      `> save Ana's wallet as ${ANA}`,
      `Ana said "save Ana's wallet as ${ANA}"`,
      `Ana wrote: “save Ana's wallet as ${ANA}”`,
      `save Ana's wallet as "${ANA}"`,
      `save Ana's wallet as \`${ANA}\``,
      `Ana says: save Ana's wallet as ${ANA}`,
      `save Ana's wallet as https://etherscan.io/address/${ANA}`,
      `save Ana's wallet as [${ANA}](https://example.com)`,
      "save Ana's mail as example.com/acct@example.com",
      "save Ana's mail as mailto:acct@example.com",
      `save Ana's wallet, it is in my last message: ${ANA} (or not)`,
      `save Ana's wallet as ${ANA} and pay her 1 ETH`,
      "save Ana's wallet as +15550100111",
      "save Ana's number as 555 010 0111",
      `save Ana's wallet as ${ANA}00`,
      `save it's wallet as ${ANA}`,
      `Ana's wallet is ${ANA}`,
      `remember that Ana's wallet is ${ANA}`,
    ];
    for (const text of none) expect(read(text), text).toEqual([]);
  });

  it(`reads each request once, and at most ${MAX_SAVE_REQUESTS} from a message`, () => {
    expect(read(`save Ana's wallet as ${ANA}. save ana's wallet as ${ANA.toLowerCase()}.`)).toHaveLength(1);
    const many = Array.from({ length: 8 }, (_, i) => `save P${i}'s number as +1555010011${i}.`).join(" ");
    expect(read(many)).toHaveLength(MAX_SAVE_REQUESTS);
  });

  const words = [
    "save",
    "add",
    "please",
    "don't",
    "Ana's",
    "my",
    "wallet",
    "number",
    "mail",
    "as",
    ":",
    "to my address book",
    ANA,
    "+1 555 010 0111",
    "ana@example.com",
    "?",
    ".",
    '"',
    "> ",
    "\n",
    "https://x.io/",
    "never",
  ];
  test.prop([
    fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.array(fc.constantFrom(...words), { maxLength: 14 }).map((w) => w.join(" ")),
    ),
  ])("never throws, reads at most a few, and every value it reads is written in the text", (text) => {
    const found = read(text);
    expect(found.length).toBeLessThanOrEqual(MAX_SAVE_REQUESTS);
    for (const r of found) {
      if (r.kind === "address") expect(text.toLowerCase()).toContain(r.value.toLowerCase());
      if (r.kind === "phone") expect(text.replace(/\D/g, "")).toContain(r.value.slice(1));
      if (r.kind === "mailbox") expect(text.toLowerCase()).toContain(r.value);
    }
  });

  it("shows back exactly what would be saved, and the value it would replace", () => {
    const request = { name: "Ana", kind: "address" as const, value: ANA };
    expect(saveStatement(request)).toBe(`Save to your address book: Ana, wallet ${ANA}`);
    const old = {
      id: "ab_000000000001",
      name: "ana",
      kind: "address" as const,
      value: BOB,
      savedAt: "",
      via: "chat" as const,
    };
    expect(saveStatement(request, old)).toBe(`Save to your address book: Ana, wallet ${ANA} (instead of ${BOB})`);
    expect(saveStatement({ name: "Bob", kind: "phone", value: "+15550100111" })).toBe(
      "Save to your address book: Bob, number +15550100111",
    );
  });
});
