// TEST FIXTURE, NOT PRODUCT CODE (@convos-pool/convos/phone). A person's
// phone as the Convos apps make one of it (ConvosConnections: the Convos
// CLI's SKILL.md): it publishes what a connected kind shares into the
// conversation, as the person's own inbox, and answers what an agent asks of
// it (invocations, capability requests) with whatever status the test
// scripts, including a capability turned off in the middle of a flow. The
// codecs are the Convos CLI's, as the apps' are wire-compatible with them.
import { randomUUID } from "node:crypto";
import {
  capabilityResult,
  invocationResult,
  phonePayload,
  type ArgumentValue,
  type CapabilityRequest,
  type CapabilityRequestResultStatus,
  type ConnectionInvocation,
  type ConnectionKind,
  type InvocationStatus,
} from "../src/index.js";
import type { Person } from "./person.js";

/** What the phone answers an invocation: a status, and on success what the action returns. */
export interface PhoneAnswer {
  status: InvocationStatus;
  result?: Record<string, ArgumentValue>;
  errorMessage?: string;
}

export class Phone {
  /** Every invocation it received, oldest first, with who sent it. */
  readonly invocations: (ConnectionInvocation & { from: string })[] = [];
  /** Every capability request it received. */
  readonly requests: (CapabilityRequest & { from: string })[] = [];
  /** How it answers the next invocations (the person's settings, and their phone). */
  answer: (inv: ConnectionInvocation) => PhoneAnswer = () => ({
    status: "success",
    result: { eventId: { type: "string", value: `evt-${randomUUID().slice(0, 8)}` } },
  });
  /** How the person answers a capability request on its picker. */
  pick: (req: CapabilityRequest) => CapabilityRequestResultStatus = () => "approved";
  private readonly seen = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private busy = false;

  constructor(readonly person: Person) {
    this.timer = setInterval(() => void this.look(), 150);
  }

  /** The kind's data as the phone publishes it (ConnectionPayload), into the conversation, as the person. */
  async publish(kind: ConnectionKind, data: Record<string, unknown>): Promise<void> {
    const content = phonePayload(kind, data, new Date());
    await this.person.group.sync();
    await this.person.group.send(content);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** What came in since it last looked: each invocation and capability request answered, once. */
  private async look(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const group = this.person.group;
      await group.sync();
      // The newest first (SortDirection.Descending), then in the order they came.
      const recent = (await group.messages({ limit: 50, direction: 1 as never })).reverse();
      for (const m of recent) {
        if (this.seen.has(m.id) || m.senderInboxId === this.person.inboxId) continue;
        const type = m.contentType?.typeId;
        if (type !== "connection_invocation" && type !== "capability_request") continue;
        this.seen.add(m.id);
        if (type === "connection_invocation") await this.invoked(m.content as ConnectionInvocation, m.senderInboxId);
        else await this.asked(m.content as CapabilityRequest, m.senderInboxId);
      }
    } catch {
      // Closed under it at the end of a test, or the network away for a moment: it looks again.
    } finally {
      this.busy = false;
    }
  }

  private async invoked(inv: ConnectionInvocation, from: string): Promise<void> {
    this.invocations.push({ ...inv, from });
    const a = this.answer(inv);
    const result = invocationResult(inv, a, new Date());
    await this.person.group.send(result);
  }

  private async asked(req: CapabilityRequest, from: string): Promise<void> {
    this.requests.push({ ...req, from });
    const result = capabilityResult(req, this.pick(req));
    await this.person.group.send(result);
  }
}
