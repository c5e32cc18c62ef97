// A workspace of before conversations.json, moved into the layout of one
// folder per conversation (files.ts; `docs/design/one-agent-many-conversations.md`,
// 3.2) when the agent starts, a state sealed before and restored here
// (host/restore.ts) included. Its one conversation becomes its home.
//
// Planned pure (`planWorkspaceMigration`), applied thin (`migrateWorkspace`).
// Every new file is written first and conversations.json last among them;
// the old files go after. A crash before conversations.json is written
// finds the old files whole and plans the same writes again; a crash after
// it finds conversations.json and plans only the removals left. Either way
// the next start ends where one uninterrupted run would have.
// Memory entries learned without a conversation get the home's, so that
// every entry names the conversation it may be read in (design, 6.1).

import { conversationFile, CONVERSATION_ID_PATTERN, FILES, type Workspace } from "../../platform/workspace.js";
import { entryOf, savedStateOf, type ConversationsFile } from "./files.js";
import type { ConversationState } from "./listening.js";

/** The files of before that move into the home's folder, and the name each takes there. */
const MOVED = [
  [FILES.join, "join"],
  [FILES.participation, "participation"],
  [FILES.outsideWords, "outside-words"],
] as const;

/** Every file of before that the migration removes, state.json last. */
export const OLD_FILES: readonly string[] = [...MOVED.map(([from]) => from), FILES.state];

/** What the plan reads of a workspace. */
export interface WorkspaceFacts {
  /** Which of conversations.json and the files of before (OLD_FILES) are present. */
  present: ReadonlySet<string>;
  /** state.json as read (none: absent, or not JSON). */
  oldState: ConversationState | undefined;
}

export type MigrationStep =
  /** Writes `value` as JSON to `file`. */
  | { kind: "write"; file: string; value: unknown }
  /** Writes `to` with the text of `from`, as it is. */
  | { kind: "copy"; from: string; to: string }
  /** Memory entries without a conversation get `conversationId`. */
  | { kind: "stampMemory"; conversationId: string }
  | { kind: "remove"; file: string };

/**
 * The steps that move a workspace of before into the new layout; none for
 * a workspace in the new layout already, or in no conversation. A state.json
 * whose conversation id is not a group id (not hex) is left as it is: no
 * folder can be named after it, and it names no conversation the agent
 * could resume.
 */
export function planWorkspaceMigration(facts: WorkspaceFacts): MigrationStep[] {
  const { present, oldState } = facts;
  const removals = OLD_FILES.filter((f) => present.has(f)).map((file): MigrationStep => ({ kind: "remove", file }));
  // Written before: what remains is the removal of the old files.
  if (present.has(FILES.conversations)) return removals;
  if (!present.has(FILES.state) || !oldState || !CONVERSATION_ID_PATTERN.test(oldState.conversationId ?? "")) return [];
  const id = oldState.conversationId;
  const list: ConversationsFile = { v: 1, home: id, conversations: [entryOf(oldState)] };
  return [
    { kind: "write", file: conversationFile(id, "state"), value: savedStateOf(oldState) },
    ...MOVED.filter(([from]) => present.has(from)).map(
      ([from, to]): MigrationStep => ({ kind: "copy", from, to: conversationFile(id, to) }),
    ),
    { kind: "stampMemory", conversationId: id },
    { kind: "write", file: FILES.conversations, value: list },
    ...removals,
  ];
}

/** What applying the steps needs of a workspace (a real one, or a test's). */
export interface MigrationStore {
  readText(name: string): Promise<string | undefined>;
  writeText(name: string, text: string): Promise<void>;
  remove(name: string): Promise<void>;
  /** Gives memory entries without a conversation this one (state/memory.ts `stampEntries`), in whatever files hold them. */
  stampMemory(conversationId: string): Promise<void>;
}

/** What the plan needs to know, read from `store`. */
export async function factsOf(store: MigrationStore): Promise<WorkspaceFacts> {
  const present = new Set<string>();
  let oldState: ConversationState | undefined;
  for (const name of [FILES.conversations, ...OLD_FILES]) {
    const text = await store.readText(name);
    if (text === undefined) continue;
    present.add(name);
    if (name === FILES.state) oldState = parsed(text);
  }
  return { present, oldState };
}

/** Plans and applies the migration; returns the steps it took (none: nothing to move). */
export async function applyMigration(store: MigrationStore): Promise<MigrationStep[]> {
  const steps = planWorkspaceMigration(await factsOf(store));
  for (const step of steps) await applyStep(store, step);
  return steps;
}

export async function applyStep(store: MigrationStore, step: MigrationStep): Promise<void> {
  switch (step.kind) {
    case "write":
      return store.writeText(step.file, `${JSON.stringify(step.value, null, 2)}\n`);
    case "copy": {
      const text = await store.readText(step.from);
      if (text !== undefined) await store.writeText(step.to, text);
      return;
    }
    case "stampMemory":
      return store.stampMemory(step.conversationId);
    case "remove":
      return store.remove(step.file);
  }
}

/**
 * Migrates an agent's workspace where its state loads (life/lifecycle.ts,
 * a dormant start included). `stampMemory`: the agent's memory files' own
 * holder (state/memory.ts).
 */
export function migrateWorkspace(
  ws: Workspace,
  stampMemory: (conversationId: string) => Promise<void>,
): Promise<MigrationStep[]> {
  return applyMigration({
    readText: (name) => ws.readText(name),
    writeText: (name, text) => ws.writeText(name, text),
    remove: (name) => ws.remove(name),
    stampMemory,
  });
}

function parsed(text: string): ConversationState | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" && typeof (value as ConversationState).conversationId === "string"
      ? (value as ConversationState)
      : undefined;
  } catch {
    return undefined;
  }
}
