// TEST FIXTURE, NOT PRODUCT CODE (@convos-pool/convos/person). A person in a
// Convos conversation, as the Convos apps show one: an @xmtp/node-sdk client
// of its own that joins by the invite the way the apps do (`joinAsPerson`
// of src/person.ts, which the `person` tool of `npm start` uses too), and
// then says things, replies, reacts, and reads what others said. The Convos
// CLI cannot be one: it marks itself an agent whenever it joins or serves,
// so a member that is a CLI meets an agent's rules for other agents
// (docs/testing.md, "People").
//
// It reads the pool's statement of what an agent may do as the pool's CLI
// does (`statements`): the signed statement in the message's content, and
// the words an app that does not know the type shows (its fallback).
//
// Also what a member may send that a real app would not: a profile update
// of its own with any name or kind (`announce`), and a profile snapshot
// that speaks for other members (`snapshot`), to test that it counts only
// for its sender.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { encodeText, type Client } from "@xmtp/node-sdk";
import { hexToBytes } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { MemberKind, ProfileSnapshotSchema } from "@convos-pool/gen/convos/app/v1/profile_pb.js";
import { statementCodec, statementOf, type StatementContent } from "@convos-pool/kit/content";
import {
  CapabilityRequestCodec,
  CapabilityRequestResultCodec,
  ConnectionInvocationCodec,
  ConnectionInvocationResultCodec,
  ConnectionPayloadCodec,
  createXmtpClient,
  encodeProfileUpdate,
  joinAsPerson,
  personReaction,
  saidOf,
  XmtpInboxResolver,
  type EncodedContent,
  type Said,
  type Sent,
} from "../src/index.js";

type PersonClient = Client<unknown>;

const PERSON_CODECS = [
  new ConnectionPayloadCodec(),
  new ConnectionInvocationCodec(),
  new ConnectionInvocationResultCodec(),
  new CapabilityRequestCodec(),
  new CapabilityRequestResultCodec(),
  statementCodec,
] as unknown as NonNullable<Parameters<typeof createXmtpClient>[1]["codecs"]>;
type PersonGroup = ReturnType<PersonClient["conversations"]["listGroups"]>[number];

export type { Said, Sent };

/** One entry of a profile snapshot: whose, and what it says of them. */
export interface SnapshotEntry {
  inboxId: string;
  name?: string;
  agent?: boolean;
}

export interface PersonOptions {
  /** The name the person shows. */
  name: string;
  /** The XMTP node's API URL. */
  apiUrl: string;
  /** Where its client's database goes. */
  dir: string;
  /** How long to wait for the creator to add them; default 30 s. */
  timeoutMs?: number;
  /** Their wallet, when they are someone already (in another conversation, or the template's creator); default a fresh one. */
  account?: PrivateKeyAccount;
}

const DESCENDING = 1 as never; // SortDirection.Descending (a const enum of the bindings)

export class Person {
  private constructor(
    readonly name: string,
    readonly account: PrivateKeyAccount,
    readonly client: PersonClient,
    readonly group: PersonGroup,
  ) {}

  /** Joins the conversation of `invite` as a person named `opts.name`, with their wallet (a fresh one unless given). */
  static async join(invite: string, opts: PersonOptions): Promise<Person> {
    const account = opts.account ?? privateKeyToAccount(generatePrivateKey());
    const client = await createXmtpClient(account, {
      apiUrl: opts.apiUrl,
      dbPath: join(opts.dir, `person-${randomBytes(6).toString("hex")}.db3`),
      dbEncryptionKey: randomBytes(32),
      // As the apps do, it reads ConvosConnections (what its phone is asked: test/phone.ts); and the pool's statements.
      codecs: PERSON_CODECS,
    });
    try {
      const resolver = await XmtpInboxResolver.connect({ apiUrl: opts.apiUrl, cacheMs: 0 });
      const { group } = await joinAsPerson(client, invite, {
        resolver,
        name: opts.name,
        timeoutMs: opts.timeoutMs ?? 30_000,
      });
      return new Person(opts.name, account, client, group);
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  get inboxId(): string {
    return this.client.inboxId;
  }

  /** Says `text` in the conversation. */
  async send(text: string): Promise<Sent> {
    return this.sent(await this.inLatestEpoch(() => this.group.sendText(text)));
  }

  /** Replies to message `id` (XMTP's reply content type, as the apps send one). */
  async reply(id: string, text: string): Promise<Sent> {
    return this.sent(
      await this.inLatestEpoch(() => this.group.sendReply({ reference: id, content: encodeText(text) })),
    );
  }

  /** Reacts to message `id` sent by `inboxId`, as the apps do. */
  async react(id: string, inboxId: string, emoji: string): Promise<Sent> {
    return this.sent(await this.inLatestEpoch(() => this.group.sendReaction(personReaction(id, inboxId, emoji))));
  }

  /** A profile update of its own: a name, and the agent kind when `agent`. */
  async announce(profile: { name?: string; agent?: boolean }): Promise<Sent> {
    return this.sent(
      await this.inLatestEpoch(() => this.group.send(encodeProfileUpdate(profile.name, !!profile.agent))),
    );
  }

  /** A profile snapshot saying what it likes of anyone, as the conversation's creator's app sends one. */
  async snapshot(entries: readonly SnapshotEntry[]): Promise<Sent> {
    const snapshot = create(ProfileSnapshotSchema, {
      profiles: entries.map((e) => ({
        inboxId: hexToBytes(`0x${e.inboxId}`),
        ...(e.name !== undefined ? { name: e.name } : {}),
        ...(e.agent ? { memberKind: MemberKind.AGENT } : {}),
      })),
    });
    const encoded: EncodedContent = {
      type: { authorityId: "convos.org", typeId: "profile_snapshot", versionMajor: 1, versionMinor: 0 },
      parameters: {},
      content: toBinary(ProfileSnapshotSchema, snapshot),
    };
    return this.sent(await this.inLatestEpoch(() => this.group.send(encoded)));
  }

  /** The texts said in the conversation after `after` (all when none), oldest first, as its client has them now. */
  async texts(after?: Sent): Promise<Said[]> {
    await this.group.sync();
    const found = await this.group.messages({
      ...(after ? { sentAfterNs: after.sentAtNs } : {}),
      limit: 100,
      direction: DESCENDING,
    });
    return found.reverse().flatMap((m) => {
      const said = saidOf(m);
      return said ? [said] : [];
    });
  }

  /** The first text from `senderInboxId` after `after` that matches `match`; fails after `ms`. */
  async heard(senderInboxId: string, after: Sent | undefined, match: RegExp, ms = 30_000): Promise<Said> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = (await this.texts(after)).find((s) => s.senderInboxId === senderInboxId && match.test(s.text));
      if (found) return found;
      if (Date.now() > deadline) {
        const seen = (await this.texts(after)).map((s) => `${s.senderInboxId.slice(0, 8)}: ${s.text.slice(0, 80)}`);
        throw new Error(
          `${this.name} heard nothing from ${senderInboxId.slice(0, 8)} matching ${match} within ${ms} ms; heard:\n${seen.join("\n")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /**
   * The statements `senderInboxId` posted (convos-pool.org/statement),
   * oldest first: the signed statement, the words in the content, and the
   * message's fallback, which is what an app without the type shows.
   */
  async statements(senderInboxId: string): Promise<(StatementContent & { id: string; fallback: string })[]> {
    await this.group.sync();
    const found = await this.group.messages({ limit: 200, direction: DESCENDING });
    return found.reverse().flatMap((m) => {
      const s = m.senderInboxId === senderInboxId ? statementOf(m) : undefined;
      return s ? [{ ...s, id: m.id, fallback: m.fallback ?? "" }] : [];
    });
  }

  /** The content types of what `senderInboxId` sent that this person's client has (it sees only what came after it joined). */
  async typesFrom(senderInboxId: string): Promise<string[]> {
    await this.group.sync();
    const found = await this.group.messages({ limit: 200 });
    return found.filter((m) => m.senderInboxId === senderInboxId).map((m) => m.contentType?.typeId ?? "");
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** Sends after a sync: in the group's latest epoch, which a member added since can read. */
  private async inLatestEpoch(send: () => Promise<string>): Promise<string> {
    await this.group.sync();
    return send();
  }

  private async sent(id: string): Promise<Sent> {
    const mine = await this.group.messages({ limit: 50, direction: DESCENDING });
    // A reaction is not in the group's list of messages (it is shown on the message it reacts to): by its id.
    const m = mine.find((x) => x.id === id) ?? this.client.conversations.getMessageById(id);
    if (!m) throw new Error(`${this.name}'s message ${id} is not in their own database`);
    return { id, sentAtNs: m.sentAtNs };
  }
}
