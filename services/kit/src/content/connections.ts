// The phone connections a template's agents use (docs/templates.md, "Phone
// connections"): which ConvosConnections data sources of a person's phone,
// with which capabilities, and why. Declared by the creator and shown in the
// store before anyone adds an agent; it grants nothing (the phone's own
// per-conversation switches do). Pure: the JSON form and its proto, the
// checks the templates service runs (errors name the field), and the words
// the store shows.
import { create } from "@bufbuild/protobuf";
import {
  ConnectionDeclarationSchema,
  type ConnectionDeclaration,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { checkAll, invalidArgument } from "./errors.js";

/** ConvosConnections' kinds by raw value: the Convos CLI's ALL_CONNECTION_KINDS (a test keeps them equal). */
export const CONNECTION_KINDS = [
  "health",
  "calendar",
  "contacts",
  "location",
  "photos",
  "music",
  "home_kit",
  "screen_time",
  "motion",
] as const;
export type ConnectionKindName = (typeof CONNECTION_KINDS)[number];

/** What an agent may do with a kind: the Convos CLI's ALL_CONNECTION_CAPABILITIES, in this order. */
export const CONNECTION_CAPABILITIES = ["read", "write_create", "write_update", "write_delete"] as const;
export type ConnectionCapabilityName = (typeof CONNECTION_CAPABILITIES)[number];

export const CONNECTION_LIMITS = {
  /** One declaration per kind. */
  connections: CONNECTION_KINDS.length,
  reason: 200,
} as const;

/**
 * A declaration in content JSON. Strings as sent: `checkConnections` is what
 * says they are kinds and capabilities.
 */
export interface ConnectionJson {
  kind: string;
  capabilities: string[];
  reason: string;
}

export const isConnectionKind = (v: unknown): v is ConnectionKindName =>
  (CONNECTION_KINDS as readonly unknown[]).includes(v);
export const isConnectionCapability = (v: unknown): v is ConnectionCapabilityName =>
  (CONNECTION_CAPABILITIES as readonly unknown[]).includes(v);

export const connectionToJson = (c: ConnectionDeclaration): ConnectionJson => ({
  kind: c.kind,
  capabilities: [...c.capabilities],
  reason: c.reason,
});

export const connectionFromJson = (j: ConnectionJson): ConnectionDeclaration =>
  create(ConnectionDeclarationSchema, { kind: j.kind, capabilities: [...j.capabilities], reason: j.reason });

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(", ");

/**
 * At most 9 declarations, one per kind; each a known kind, a non-empty set of
 * known capabilities, and a reason of one line, 1 to 200 characters.
 */
export function checkConnections(field: string, connections: readonly ConnectionJson[]): void {
  // Every fault of every declaration named at once, each field once (docs/rest.md, "One contract, every face").
  checkAll(
    () => {
      if (connections.length > CONNECTION_LIMITS.connections)
        throw invalidArgument(field, `at most ${CONNECTION_LIMITS.connections} connections, one per kind`);
    },
    ...connections.map((c, i) => () => checkConnection(`${field}[${i}]`, c, connections.slice(0, i))),
  );
}

/** One declaration, `before` the ones listed ahead of it (a kind declared twice is named at the later one). */
function checkConnection(f: string, c: ConnectionJson, before: readonly ConnectionJson[]): void {
  checkAll(
    () => {
      if (!isConnectionKind(c.kind)) throw invalidArgument(`${f}.kind`, `must be one of ${quoted(CONNECTION_KINDS)}`);
      if (before.some((b) => b.kind === c.kind))
        throw invalidArgument(`${f}.kind`, `duplicate connection kind "${c.kind}": declare it once`);
    },
    () => {
      if (c.capabilities.length === 0)
        throw invalidArgument(`${f}.capabilities`, `must name at least one of ${quoted(CONNECTION_CAPABILITIES)}`);
    },
    ...c.capabilities.map((cap, j) => () => {
      if (!isConnectionCapability(cap))
        throw invalidArgument(`${f}.capabilities[${j}]`, `must be one of ${quoted(CONNECTION_CAPABILITIES)}`);
      if (c.capabilities.slice(0, j).includes(cap))
        throw invalidArgument(`${f}.capabilities[${j}]`, `duplicate capability "${cap}"`);
    }),
    () => {
      if (c.reason.trim() === "")
        throw invalidArgument(`${f}.reason`, "is required: why its agents use it, shown before anyone adds one");
      if (/[\p{Cc}\u2028\u2029]/u.test(c.reason)) throw invalidArgument(`${f}.reason`, "must be one line");
      if ([...c.reason].length > CONNECTION_LIMITS.reason)
        throw invalidArgument(`${f}.reason`, `must be at most ${CONNECTION_LIMITS.reason} characters`);
    },
  );
}

/**
 * The declarations of a template and its bases, nearest first, as its agents
 * use them (docs/templates.md, "Base templates"): the base's first, each
 * nearer layer's appended; a kind declared again keeps its place, with the
 * capabilities of both and the nearer reason. A derived template cannot hide
 * what its base's instructions use.
 */
export function resolveConnections(layers: readonly (readonly ConnectionDeclaration[])[]): ConnectionDeclaration[] {
  const byKind = new Map<string, ConnectionDeclaration>();
  for (const layer of [...layers].reverse()) {
    for (const c of layer) {
      const before = byKind.get(c.kind);
      const capabilities = before ? [...new Set([...before.capabilities, ...c.capabilities])] : c.capabilities;
      byKind.set(c.kind, create(ConnectionDeclarationSchema, { kind: c.kind, capabilities, reason: c.reason }));
    }
  }
  return [...byKind.values()];
}

/** How the store names each kind, and what its writes make, change or delete. */
export const CONNECTION_KIND_WORDS: Record<ConnectionKindName, { name: string; records: string }> = {
  health: { name: "Health", records: "health data" },
  calendar: { name: "Calendar", records: "events" },
  contacts: { name: "Contacts", records: "contacts" },
  location: { name: "Location", records: "places" },
  photos: { name: "Photos", records: "photos" },
  music: { name: "Music", records: "playlists" },
  home_kit: { name: "Home", records: "home settings" },
  screen_time: { name: "Screen Time", records: "Screen Time settings" },
  motion: { name: "Motion", records: "activity data" },
};

const WRITE_VERBS: Record<Exclude<ConnectionCapabilityName, "read">, string> = {
  write_create: "create",
  write_update: "change",
  write_delete: "delete",
};

/** "read", "create events", "read, create, change and delete events": its capabilities in the store's order. */
export function connectionUses(c: Pick<ConnectionJson, "kind" | "capabilities">): string {
  const records = isConnectionKind(c.kind) ? CONNECTION_KIND_WORDS[c.kind].records : "records";
  const has = (cap: ConnectionCapabilityName) => c.capabilities.includes(cap);
  const verbs = (["write_create", "write_update", "write_delete"] as const).filter(has).map((w) => WRITE_VERBS[w]);
  const writes =
    verbs.length === 0
      ? []
      : [`${[verbs.slice(0, -1).join(", "), verbs.at(-1)].filter(Boolean).join(" and ")} ${records}`];
  return [...(has("read") ? ["read"] : []), ...writes].join(", ");
}

/** One line for the store: `Uses your phone's Calendar (read, create events): to plan around your week`. */
export function connectionSummary(c: ConnectionJson): string {
  const name = isConnectionKind(c.kind) ? CONNECTION_KIND_WORDS[c.kind].name : c.kind;
  return `Uses your phone's ${name} (${connectionUses(c)}): ${c.reason}`;
}
