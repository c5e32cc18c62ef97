// An agent's memory as its workspace keeps it: memory.json without
// credentials, the credentials entries sealed in memory-credentials.json
// (docs/memory.md). This is the only holder of the memory a claim works on
// and the only code that reads and writes those two files: a start or a
// wake loads it, Configure starts an empty one, a Release or a sleep lets
// go of it. What is in it changes through `Memory`'s own methods (learning,
// a clone's summary, the owner's calls), each followed by `save`.

import type { InstanceWallet } from "../../platform/keys.js";
import { Memory, type MemoryFile, type SealedMemory } from "../../memory/store.js";
import { FILES, type Workspace } from "../../platform/workspace.js";
import { scopeOf, type Walls } from "../../memory/walls.js";

export class HeldMemory {
  private held: Memory | undefined;

  constructor(
    private readonly ws: Workspace,
    /** Its wallet, whose key seals the credentials entries. */
    private readonly wallet: () => InstanceWallet | undefined,
  ) {}

  /** The memory of the claim as it is now (none: idle, or asleep). */
  get current(): Memory | undefined {
    return this.held;
  }

  /** Its memory from the workspace; credentials found in memory.json (written before they were sealed) are sealed now. */
  async load(ownerId: string): Promise<Memory> {
    const plain = await this.ws.readJson<MemoryFile>(FILES.memory);
    const wallet = this.wallet();
    const sealed = wallet
      ? await this.ws.readSealed<SealedMemory>(
          FILES.memoryCredentials,
          "memory-credentials",
          wallet.memoryCredentialsKey(),
        )
      : undefined;
    const memory = Memory.from(plain, ownerId, sealed?.entries);
    if (plain?.entries.some((e) => e.kind === "credentials")) await this.save(memory);
    this.held = memory;
    return memory;
  }

  /** A claim starts fresh: no memory of an earlier one, written so. */
  async fresh(): Promise<void> {
    this.held = new Memory();
    await this.save();
  }

  /**
   * Writes `memory` (the one a change was made on, which a Release may have
   * replaced since): memory.json without credentials, the credentials
   * entries sealed (their file removed when there are none).
   */
  async save(memory: Memory | undefined = this.held): Promise<void> {
    if (!memory) return;
    const { plain, sealed } = memory.diskFiles();
    if (sealed.entries.length > 0) {
      const wallet = this.wallet();
      if (!wallet) throw new Error("credentials in memory cannot be sealed before the agent has its wallet");
      await this.ws.writeSealed(FILES.memoryCredentials, "memory-credentials", wallet.memoryCredentialsKey(), sealed);
    }
    await this.ws.writeJson(FILES.memory, plain);
    if (sealed.entries.length === 0) await this.ws.remove(FILES.memoryCredentials);
  }

  /**
   * Entries learned without a conversation get `conversationId` (a workspace
   * of before conversations.json, its one conversation the home:
   * conversation/migration.ts), written in place. The sealed credentials
   * entries too when its wallet is at hand (a dormant start has none yet).
   */
  async stampConversation(conversationId: string): Promise<void> {
    const plain = await this.ws.readJson<MemoryFile>(FILES.memory);
    if (plain?.entries?.some((e) => !e.conversationId)) {
      await this.ws.writeJson(FILES.memory, { ...plain, entries: stampEntries(plain.entries, conversationId) });
    }
    const wallet = this.wallet();
    if (!wallet) return;
    const key = wallet.memoryCredentialsKey();
    const sealed = await this.ws.readSealed<SealedMemory>(FILES.memoryCredentials, "memory-credentials", key);
    if (sealed?.entries?.some((e) => !e.conversationId)) {
      const stamped = { ...sealed, entries: stampEntries(sealed.entries, conversationId) };
      await this.ws.writeSealed(FILES.memoryCredentials, "memory-credentials", key, stamped);
    }
  }

  /**
   * It left `conversationId` (face/claim.ts leaveConversation): every entry
   * read only there (memory/walls.ts, within `walls` as they were before it
   * left) is forgotten and memory written; the owner's own and what the
   * owner shared stay. How many went.
   */
  async forgetConversation(conversationId: string, walls: Walls): Promise<number> {
    const memory = this.held;
    if (!memory) return 0;
    const only = memory.entries.filter((e) => {
      const scope = scopeOf(e, walls);
      return !("everywhere" in scope) && scope.conversationId === conversationId;
    });
    if (only.length === 0) return 0;
    memory.remove(only.map((e) => e.id));
    await this.save(memory);
    return only.length;
  }

  /** A Release or a sleep: it holds no memory until the next load or claim. */
  drop(): void {
    this.held = undefined;
  }
}

/** Entries without a conversation given `conversationId`; the others as they are. Pure. */
export function stampEntries<E extends { conversationId?: string | undefined }>(
  entries: readonly E[],
  conversationId: string,
): E[] {
  return entries.map((e) => (e.conversationId ? e : { ...e, conversationId }));
}
