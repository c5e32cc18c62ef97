// A save request of the owner's, asked and carried out
// (address-book-requests.ts): the address book is real, in a workspace on
// disk; the question is a stand-in that answers as the test says (what
// answers a question is tools/approvals/policy.test.ts's, and end to end
// services/e2e/src/address-book-e2e.int.test.ts's), and so is the voice.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@convos-pool/kit/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Workspace } from "../../platform/workspace.js";
import { AddressBook } from "../../tools/address-book/store.js";
import type { Approval } from "../../tools/gate/gate.js";
import type { Said } from "../../tools/approvals/questions.js";
import { askAndSave, askToSave, type SavingParts } from "./address-book-requests.js";

const ANA = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const OWNER = "a".repeat(64);
const REQUEST: Said = { id: "msg-1", senderInboxId: OWNER };

let dir: string;
let book: AddressBook;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "saves-"));
  const ws = new Workspace(dir, "inst_saves");
  await ws.create();
  book = await AddressBook.open(ws, randomBytes(32));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** An agent whose owner answers `answer` to every question; what it asked and said, in order. */
function agentAnswering(answer: () => Promise<Approval>) {
  const asked: { statement: string; about: Said | undefined }[] = [];
  const said: { text: string; to: Said }[] = [];
  const config = { ownerId: OWNER };
  const agent: SavingParts & { settings: { config: { ownerId: string } } } = {
    toolbox: {
      get addressBook() {
        return book;
      },
      ask: (statement, about) => {
        asked.push({ statement, about });
        return answer();
      },
    },
    voice: {
      replyTo: async (text, to) => {
        said.push({ text, to });
        return "reply-id";
      },
    },
    settings: { config },
    log: createLogger("saves-test", { level: "silent" }),
  };
  return { agent, asked, said };
}

describe("the owner's save request", () => {
  it("asks the owner, showing back exactly what would be saved, and saves it on their yes", async () => {
    const { agent, asked, said } = agentAnswering(async () => "yes");
    const outcome = await askAndSave(agent, { name: "Ana", kind: "address", value: ANA }, REQUEST);
    expect(outcome).toBe("saved");
    expect(asked).toEqual([{ statement: `Save to your address book: Ana, wallet ${ANA}`, about: REQUEST }]);
    expect(book.list()).toMatchObject([{ name: "Ana", kind: "address", value: ANA, via: "chat" }]);
    expect(said).toEqual([{ text: `Saved to your address book: Ana, wallet ${ANA}.`, to: REQUEST }]);
  });

  it("saves nothing on a no, or when no answer came in time, and says so", async () => {
    for (const [answer, words] of [
      ["no", "you said no"],
      ["timeout", "no answer in time"],
    ] as const) {
      const { agent, said } = agentAnswering(async () => answer);
      expect(await askAndSave(agent, { name: "Ana", kind: "address", value: ANA }, REQUEST)).toBe(
        answer === "no" ? "declined" : "timeout",
      );
      expect(book.list()).toEqual([]);
      expect(said.map((s) => s.text)).toEqual([`Not saved (${words}): Ana, wallet ${ANA}.`]);
    }
  });

  it("asks nothing for a value it has under that name already; a new value is asked as replacing the old", async () => {
    await book.save({ name: "ana", kind: "address", value: ANA, via: "signed" });
    const { agent, asked, said } = agentAnswering(async () => "yes");
    expect(await askAndSave(agent, { name: "Ana", kind: "address", value: ANA }, REQUEST)).toBe("known");
    expect(asked).toEqual([]);
    expect(said.map((s) => s.text)).toEqual([`Already in your address book: ana, wallet ${ANA}.`]);
    const other = "0x2546BcD3c84621e976D8185a91A922aE77ECEc30";
    await askAndSave(agent, { name: "Ana", kind: "address", value: other }, REQUEST);
    expect(asked.map((a) => a.statement)).toEqual([
      `Save to your address book: Ana, wallet ${other} (instead of ${ANA})`,
    ]);
    expect(book.lookup("ana", "address")?.value).toBe(other);
  });

  it("saves nothing when its owner changed while the question waited (a transfer)", async () => {
    const run = agentAnswering(async () => {
      run.agent.settings.config.ownerId = "b".repeat(64);
      return "yes";
    });
    expect(await askAndSave(run.agent, { name: "Ana", kind: "address", value: ANA }, REQUEST)).toBe("gone");
    expect(book.list()).toEqual([]);
  });

  it("does not hold the conversation up: the owner's text is read and asked about, and it returns before any answer", async () => {
    let answer!: (a: Approval) => void;
    const { agent, asked } = agentAnswering(() => new Promise<Approval>((resolve) => (answer = resolve)));
    askToSave(agent, { ...REQUEST, content: `save Ana's wallet as ${ANA}. Also, what's for dinner?` });
    await new Promise((r) => setImmediate(r));
    expect(asked.map((a) => a.statement)).toEqual([`Save to your address book: Ana, wallet ${ANA}`]);
    expect(book.list()).toEqual([]);
    answer("yes");
    await new Promise((r) => setTimeout(r, 50));
    expect(book.list()).toHaveLength(1);
  });

  it("asks nothing of a text that holds no save request", async () => {
    const { agent, asked } = agentAnswering(async () => "yes");
    askToSave(agent, { ...REQUEST, content: `Ana's wallet is ${ANA}; pay her 0.01 ETH` });
    await new Promise((r) => setImmediate(r));
    expect(asked).toEqual([]);
  });
});
