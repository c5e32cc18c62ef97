/**
 * TEST HARNESS, NOT PRODUCT CODE. The fault suite's one checker of what must
 * hold after any fault (docs/reliability.md), read from where the
 * truth is: the claims and templates databases, the instance host's own
 * report of each agent, the conversations as the XMTP network has them, and
 * what the model was asked.
 *
 * - No agent claimed twice: every agent in a conversation is the claimed
 *   instance of that conversation, and no agent is in two.
 * - Nothing stuck in `claiming`.
 * - No pool tool held without a live owner, and none released while in use
 *   (every claimed agent holds each pool tool its version declares).
 * - Every live agent converges to its template's newest version, as the
 *   database records it and as the agent itself reports it.
 * - Every message sent to an agent is answered, also one sent while it was
 *   down: by its own answer, or by the one answer a back-from-down agent
 *   gives to what it missed (a turn whose prompt held it; docs/instance.md,
 *   "Restart"). No message is answered twice. The agent's signed statement
 *   of what it may do (docs/statement.md) is no answer.
 */
import type pg from "pg";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { createServiceClient, type ClientCredentials } from "@convos-pool/kit/server";
import type { startCreator } from "@convos-pool/convos/testing";
import { EXTRACTION_PROMPT, CHOOSER_PROMPT } from "@convos-pool/instance";
import { statementJwsIn } from "@convos-pool/kit/content";
import type { RecordedRequest } from "@convos-pool/testing/chat-server";

type Creator = Awaited<ReturnType<typeof startCreator>>;

export interface World {
  claimsDb: pg.Client;
  templatesDb: pg.Client;
  /** The instance hosts' URLs (one or several) and a credential that may list their agents. */
  hostUrl: string | string[];
  hostCreds: ClientCredentials;
  /** The creator of every conversation the suite made. */
  creator: Creator;
  /** Every request the model got. */
  llmRequests: RecordedRequest[];
  /** Texts sent to agents, by conversation: each must be answered. */
  asked: Map<string, string[]>;
}

const rows = async <T = Record<string, unknown>>(c: pg.Client, sql: string, params: unknown[] = []) =>
  (await c.query(sql, params)).rows as T[];

/** What does not hold now, one line each (empty: everything holds). */
export async function violations(w: World): Promise<string[]> {
  const out: string[] = [];
  const instances = await rows<{
    id: string;
    state: string;
    inbox_id: string;
    owner_id: string | null;
    conversation_id: string | null;
    template_id: string | null;
    template_version: number | null;
    pinned: boolean;
  }>(
    w.claimsDb,
    `select id, state, inbox_id, owner_id, conversation_id, template_id, template_version, pinned from instances`,
  );
  const byInbox = new Map(instances.map((i) => [i.inbox_id, i]));
  const claimed = instances.filter((i) => i.state === "claimed");

  for (const i of instances.filter((i) => i.state === "claiming")) out.push(`${i.id} is stuck in claiming`);

  // Agents in conversations, as the network has them.
  const seen = new Map<string, string>();
  const conversations = await w.creator.members();
  for (const [groupId, members] of conversations) {
    for (const inbox of members) {
      const i = byInbox.get(inbox);
      if (!i) continue; // a person, not one of the pool's agents
      if (seen.has(inbox)) out.push(`${i.id} is in two conversations (${seen.get(inbox)} and ${groupId})`);
      seen.set(inbox, groupId);
      if (i.state !== "claimed" || i.conversation_id !== groupId)
        out.push(`${i.id} is in conversation ${groupId} but is ${i.state} for ${i.conversation_id ?? "none"}`);
    }
  }
  for (const i of claimed)
    if (i.conversation_id && !seen.has(i.inbox_id) && conversations.has(i.conversation_id))
      out.push(`${i.id} is claimed for ${i.conversation_id} but not in it`);

  // Pool tools: held only by live owners, and every live owner holds its own.
  const live = new Set(claimed.map((i) => i.id));
  for (const t of await rows<{ instance_id: string; tool_id: string }>(
    w.claimsDb,
    `select instance_id, tool_id from provisioned_tools`,
  )) {
    if (!live.has(t.instance_id))
      out.push(`${t.tool_id} of ${t.instance_id} is held, but the instance is ${byId(instances, t.instance_id)}`);
  }
  for (const n of await rows<{ number: string; instance_id: string }>(
    w.claimsDb,
    `select number, instance_id from sms_numbers where instance_id is not null`,
  )) {
    if (!live.has(n.instance_id))
      out.push(`number ${n.number} is allocated to ${n.instance_id}, which is ${byId(instances, n.instance_id)}`);
  }
  // The newest content version of each template (a visibility change makes a version with no new content).
  const newest = new Map(
    (
      await rows<{ id: string; version: number; tools: { id: string; provisioning: string }[] }>(
        w.templatesDb,
        `select id, content_version as version, tools from templates`,
      )
    ).map((t) => [t.id, t]),
  );
  const held = new Map<string, Set<string>>();
  for (const t of await rows<{ instance_id: string; tool_id: string }>(
    w.claimsDb,
    `select instance_id, tool_id from provisioned_tools`,
  )) {
    held.set(t.instance_id, (held.get(t.instance_id) ?? new Set()).add(t.tool_id));
  }

  // Versions: the database's record and the agent's own report (every host's).
  const reported = new Map<string, bigint>();
  for (const url of typeof w.hostUrl === "string" ? [w.hostUrl] : w.hostUrl) {
    const host = createServiceClient(InstanceHostService, url, w.hostCreds);
    try {
      for (const h of (await host.client.listInstances({})).instances)
        reported.set(h.instanceId, h.appliedTemplateVersion);
    } catch (err) {
      out.push(`the instance host ${url} does not answer: ${(err as Error).message}`);
    } finally {
      host.close();
    }
  }
  for (const i of claimed) {
    const t = newest.get(i.template_id ?? "");
    if (!t) continue;
    if (!i.pinned && i.template_version !== t.version)
      out.push(`${i.id} is recorded at version ${i.template_version}, its template at ${t.version}`);
    const agent = reported.get(i.id);
    if (reported.size > 0 && !i.pinned && agent !== BigInt(t.version))
      out.push(`${i.id} reports version ${agent ?? "nothing (not on the host)"}, its template is at ${t.version}`);
    const declared = t.tools.filter((x) => x.provisioning === "pool").map((x) => x.id);
    for (const tool of declared) if (!held.get(i.id)?.has(tool)) out.push(`${i.id} has lost its ${tool}`);
  }

  // Conversations: every text to an agent answered, none twice.
  const prompts = w.llmRequests
    .filter((r) => ![EXTRACTION_PROMPT, CHOOSER_PROMPT].some((p) => r.body.messages[0]?.content.startsWith(p)))
    .map((r) => r.body.messages.map((m) => m.content ?? "").join("\n"));
  for (const [groupId, texts] of w.asked) {
    const agent = claimed.find((i) => i.conversation_id === groupId);
    if (!agent) continue;
    // The pool's signed statement of what the agent may do (docs/statement.md) answers nobody: not counted.
    const said = (await w.creator.transcript(groupId)).filter(
      (m) => m.from !== agent.inbox_id || statementJwsIn(m.text) === undefined,
    );
    for (const text of texts) {
      const at = said.findIndex((m) => m.text === text && m.from === w.creator.inboxId);
      if (at < 0) {
        out.push(`"${text}" was never delivered to ${groupId}`);
        continue;
      }
      // Answered: an answer after it, from a turn that saw it (its own, or the catch-up's).
      const after = said.slice(at + 1).some((m) => m.from === agent.inbox_id);
      const seenByModel = prompts.some((p) => p.includes(text));
      if (!after || !seenByModel)
        out.push(`"${text}" in ${groupId} is not answered${after ? " (no turn saw it)" : ""}`);
    }
    // Twice: more answers than the people's texts before them.
    let pending = 0;
    for (const m of said) {
      if (m.from === agent.inbox_id) {
        if (pending === 0) out.push(`${agent.id} answered twice in ${groupId} ("${m.text.slice(0, 60)}")`);
        pending = 0;
      } else if (m.from === w.creator.inboxId) pending++;
    }
  }
  return out;
}

const byId = (instances: { id: string; state: string }[], id: string) =>
  instances.find((i) => i.id === id)?.state ?? "gone";

/** Waits until every invariant holds (they are eventual: leases, sweeps, retries), or throws with what still does not. */
export async function invariantsHold(w: World, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  let last: string[] = [];
  while (Date.now() < end) {
    last = await violations(w);
    if (last.length === 0) return;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`invariants still broken after ${ms / 1000} s:\n- ${last.join("\n- ")}`);
}
