// The person's phone, as the `person` tool plays it (ConvosConnections,
// docs/connections.md): a payload of what a connected kind shares, and the
// phone's answers to what others in the conversation ask of it
// (invocations, capability requests), with the status or pick the command
// line says. The codecs are the Convos CLI's, as in the tests' phone
// (@convos-pool/convos/phone). Which asks to answer and what to answer them
// is decided by pure functions (asksIn, answerTo); answerPhone only reads,
// sends and keeps its place.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import {
  capabilityResult,
  invocationResult,
  phonePayload,
  type ArgumentValue,
  type CapabilityRequest,
  type CapabilityRequestResultStatus,
  type ConnectionInvocation,
  type EncodedContent,
  type InvocationStatus,
  type ReadMessage,
} from "@convos-pool/convos";

/** What the phone publishes of `kind`: its data, captured `at`. */
export const sharePayload = phonePayload;

/** Something asked of the phone: an invocation or a capability request, with its message. */
export type Ask = { id: string; from: string; sentAtNs: bigint } & (
  | { invocation: ConnectionInvocation }
  | { request: CapabilityRequest }
);

/**
 * What others asked of the phone in `messages` that it has not answered
 * there yet (its own answers name what they answer), oldest first.
 */
export function asksIn(messages: readonly ReadMessage[], self: string): Ask[] {
  const sorted = [...messages].sort((a, b) => (a.sentAtNs < b.sentAtNs ? -1 : a.sentAtNs > b.sentAtNs ? 1 : 0));
  const answered = new Set<string>();
  for (const m of sorted) {
    if (m.senderInboxId !== self) continue;
    const c = m.content as { invocationId?: unknown; requestId?: unknown } | undefined;
    const type = m.contentType?.typeId;
    if (type === "connection_invocation_result" && typeof c?.invocationId === "string") answered.add(c.invocationId);
    if (type === "capability_request_result" && typeof c?.requestId === "string") answered.add(c.requestId);
  }
  const asks: Ask[] = [];
  for (const m of sorted) {
    if (m.senderInboxId === self || !m.content) continue;
    const base = { id: m.id, from: m.senderInboxId, sentAtNs: m.sentAtNs };
    const type = m.contentType?.typeId;
    if (type === "connection_invocation") {
      const invocation = m.content as ConnectionInvocation;
      if (!answered.has(invocation.invocationId)) asks.push({ ...base, invocation });
    } else if (type === "capability_request") {
      const request = m.content as CapabilityRequest;
      if (!answered.has(request.requestId)) asks.push({ ...base, request });
    }
  }
  return asks;
}

/** How the person has their phone answer: a status for invocations, a pick for capability requests. */
export interface Answering {
  status: InvocationStatus;
  errorMessage?: string;
  pick: CapabilityRequestResultStatus;
}

/** The phone's answer to `ask`, and the line that says what was asked and what was answered. */
export function answerTo(ask: Ask, how: Answering, at: Date): { content: EncodedContent; line: object } {
  const said = { id: ask.id, from: ask.from };
  if ("request" in ask) {
    const r = ask.request;
    const content = capabilityResult(r, how.pick);
    return {
      content,
      line: {
        ...said,
        subject: r.subject,
        capability: r.capability,
        rationale: r.rationale,
        answered: { pick: how.pick },
      },
    };
  }
  const inv = ask.invocation;
  const result = how.status === "success" ? successResult(inv) : {};
  const errorMessage = how.status === "success" ? undefined : how.errorMessage;
  const content = invocationResult(inv, { status: how.status, result, errorMessage }, at);
  return {
    content,
    line: {
      ...said,
      kind: inv.kind,
      action: inv.action.name,
      arguments: plain(inv.action.arguments),
      answered: {
        status: how.status,
        ...(Object.keys(result).length ? { result: plain(result) } : {}),
        ...(errorMessage ? { errorMessage } : {}),
      },
    },
  };
}

/** What a phone returns on success (the Convos CLI's SKILL.md, action schemas): a new event's id, or the one changed. */
function successResult(inv: ConnectionInvocation): Record<string, ArgumentValue> {
  if (inv.action.name === "create_event")
    return { eventId: { type: "string", value: `evt-${randomBytes(4).toString("hex")}` } };
  const changed = inv.action.arguments.eventId;
  if (inv.action.name === "update_event" && changed) return { eventId: changed };
  return {};
}

/** Arguments without their wire tags: {"title":"Dinner"} for {"title":{"type":"string","value":"Dinner"}}. */
function plain(args: Record<string, ArgumentValue>): Record<string, unknown> {
  const value = (v: ArgumentValue): unknown => (v.type === "array" ? v.value.map(value) : v.value);
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, value(v)]));
}

/** The conversation as answerPhone uses it. */
export interface PhoneGroup {
  id: string;
  sync(): Promise<unknown>;
  messages(opts?: { sentAfterNs?: bigint }): Promise<ReadMessage[]>;
  send(content: EncodedContent): Promise<string>;
}

/** Per conversation, the newest message the phone answered: where the next phone-answer starts. */
type Place = Record<string, { id: string; sentAtNs: string }>;

/**
 * Answers what was asked of the phone in `group` since the home's last
 * answer (kept in `placeFile`), each printed as it goes; waits up to
 * `how.waitSeconds` for at least one. How many it answered.
 */
export async function answerPhone(
  self: string,
  group: PhoneGroup,
  how: Answering & { waitSeconds: number },
  placeFile: string,
  print: (line: object) => void,
): Promise<number> {
  const place: Place = existsSync(placeFile) ? (JSON.parse(await readFile(placeFile, "utf8")) as Place) : {};
  const after = place[group.id]?.sentAtNs;
  const deadline = Date.now() + how.waitSeconds * 1000;
  for (;;) {
    await group.sync();
    const asks = asksIn(await group.messages(after ? { sentAfterNs: BigInt(after) } : {}), self);
    for (const ask of asks) {
      const { content, line } = answerTo(ask, how, new Date());
      await group.send(content);
      print(line);
      place[group.id] = { id: ask.id, sentAtNs: String(ask.sentAtNs) };
      await writeFile(placeFile, `${JSON.stringify(place)}\n`, { mode: 0o600 });
    }
    if (asks.length > 0 || Date.now() >= deadline) return asks.length;
    await sleep(500);
  }
}
