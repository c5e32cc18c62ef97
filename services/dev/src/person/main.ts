// `npm run -s person -- <command>`: a person in a Convos conversation, for
// trying the pool by hand beside `npm start` (docs/testing.md, "People").
// It joins as the Convos apps do, with no agent kind, so a pool agent counts
// its 👍 and 👎 and learns from its corrections as a person's; the Convos
// CLI's guest is an agent and is not counted so. Each command is one short
// XMTP client session on the person's home (--home): its key in person.json,
// its database beside it, so successive commands are the same installation.
// It plays the person's phone too (ConvosConnections, docs/connections.md):
// what it shares, and its answers to what an agent asks of it (phone.ts).
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PersonKey } from "@convos-pool/convos";
import { parseCommand, phoneData, UsageError, USAGE, type Command } from "./args.js";

// The XMTP SDK loads only once a command is sure to need it: a usage error or
// a home without a person answers in a blink, on a busy machine too.
const convos = () => import("@convos-pool/convos");
const phone = () => import("./phone.js");

/** A failure with its reason for the person (exit 1). */
class Failure extends Error {}

const KEY_FILE = "person.json";

async function keyOf(home: string, create: boolean): Promise<PersonKey> {
  const file = join(home, KEY_FILE);
  if (existsSync(file)) return JSON.parse(await readFile(file, "utf8")) as PersonKey;
  if (!create) throw new Failure(`no person in ${home}: run join with this --home first`);
  await mkdir(home, { recursive: true, mode: 0o700 });
  const key = (await convos()).newPersonKey();
  // The key is the person's inbox: readable by its owner only.
  await writeFile(file, `${JSON.stringify(key)}\n`, { mode: 0o600, flag: "wx" });
  return key;
}

/** Where phone-answer keeps, per conversation, the newest message it answered. */
const PHONE_FILE = "phone.json";

async function readData(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new Failure(`--data-file: cannot read ${file}: ${(err as Error).message}`);
  }
}

const print = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

async function run(cmd: Command): Promise<void> {
  const key = await keyOf(cmd.home, cmd.command === "join");
  const { joinAsPerson, personClient, personReaction, personReply, saidOf, XmtpInboxResolver } = await convos();
  const client = await personClient(key, { apiUrl: cmd.apiUrl, dbPath: join(cmd.home, "xmtp.db3") });
  try {
    if (cmd.command === "join") {
      const resolver = await XmtpInboxResolver.connect({ apiUrl: cmd.apiUrl, cacheMs: 0 });
      const { group } = await joinAsPerson(client, cmd.invite, { resolver, name: cmd.name });
      return print({ conversationId: group.id, inboxId: client.inboxId });
    }
    await client.conversations.sync();
    if (cmd.command === "conversations") {
      for (const g of client.conversations.listGroups())
        print({ id: g.id, name: g.name ?? "", members: (await g.members()).length });
      return;
    }
    const group = await client.conversations.getConversationById(cmd.conversationId);
    if (!group) throw new Failure(`not in conversation ${cmd.conversationId} (join it with this --home first)`);
    // In the latest epoch, and with the messages this command names.
    await group.sync();
    const message = (id: string) => {
      const m = client.conversations.getMessageById(id);
      if (!m || m.conversationId !== group.id) throw new Failure(`no message ${id} in conversation ${group.id}`);
      return m;
    };
    switch (cmd.command) {
      case "say": {
        const id = cmd.replyTo
          ? await group.sendReply(personReply(cmd.replyTo, cmd.text, message(cmd.replyTo).senderInboxId))
          : await group.sendText(cmd.text);
        return print({ id });
      }
      case "react": {
        const on = message(cmd.messageId);
        const id = await group.sendReaction(personReaction(on.id, on.senderInboxId, cmd.emoji, cmd.remove));
        return print({ id });
      }
      case "messages": {
        const after = cmd.after ? message(cmd.after).sentAtNs : undefined;
        const list = async () => {
          const found = await group.messages(after !== undefined ? { sentAfterNs: after } : {});
          return found.flatMap((m) => saidOf(m) ?? []).sort((a, b) => (a.sentAtNs < b.sentAtNs ? -1 : 1));
        };
        // One process that looks every second, rather than a shell loop that starts one a second.
        const awaited = (s: { senderInboxId: string; text: string }) =>
          s.senderInboxId !== client.inboxId && (cmd.containing === undefined || s.text.includes(cmd.containing));
        const started = Date.now();
        let said = await list();
        let told = 0;
        for (let waited = 0; cmd.waitSeconds > 0 && !said.some(awaited); ) {
          if (waited >= cmd.waitSeconds) {
            const what = cmd.containing === undefined ? "nothing" : `nothing with "${cmd.containing}" in it`;
            throw new Failure(`${what} was said by anyone else in ${cmd.waitSeconds} s`);
          }
          await new Promise((r) => setTimeout(r, 1_000));
          waited = Math.floor((Date.now() - started) / 1_000);
          if (waited >= told + 15) {
            told = waited - (waited % 15);
            process.stderr.write(`person: still waiting (${told} s)\n`);
          }
          await group.sync();
          said = await list();
        }
        for (const s of said)
          print({ id: s.id, sender: s.senderInboxId, text: s.text, ...(s.replyTo ? { replyTo: s.replyTo } : {}) });
        return;
      }
      case "phone-share": {
        const data = "json" in cmd.data ? cmd.data.json : phoneData(await readData(cmd.data.file), "--data-file");
        const id = await group.send((await phone()).sharePayload(cmd.kind, data, new Date()));
        return print({ id });
      }
      case "phone-answer": {
        const { answerPhone } = await phone();
        const answered = await answerPhone(client.inboxId, group, cmd, join(cmd.home, PHONE_FILE), print);
        if (answered === 0 && cmd.waitSeconds > 0)
          throw new Failure(`nothing was asked of the phone in ${cmd.waitSeconds} s`);
        return;
      }
    }
  } finally {
    await client.close();
  }
}

let cmd: Command;
try {
  cmd = parseCommand(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`person: ${err.message}\n\n${USAGE}`);
  process.exit(2);
}
try {
  await run(cmd).catch((err: unknown) => {
    // A --data-file that is not a JSON object: the command line was fine, the file was not.
    throw err instanceof UsageError ? new Failure(err.message) : err;
  });
  // The SDK's native side may keep the loop alive after close.
  process.exit(0);
} catch (err) {
  process.stderr.write(`person: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
