/**
 * TEST FIXTURE. The stack with people: a RealStack whose conversation's
 * creator, Saul (the Convos CLI serving it), owns an agent claimed into it,
 * and friends who then joined by its invite: `people`, each a person as the
 * Convos apps show one (an @xmtp/node-sdk client of their own, joined
 * without the agent kind: @convos-pool/convos/person), and `members`, each a
 * Convos CLI of their own, which marks itself an agent (docs/testing.md,
 * "People"). What the end-to-end tests of a group (roles, permissions,
 * member, providers, people) all build first:
 *
 *   1. the stack starts;
 *   2. a creator of its own signs and publishes the template (`template`,
 *      over `sampleContent`; made once the stack runs when it is a function,
 *      for a template that names another of the stack's, a base);
 *   3. `before` join by the invite, as people, before the agent is there;
 *      once an agent is idle, Saul claims it into the conversation (a session
 *      call), and the claim answers once the agent is in;
 *   4. `members` join by the invite, in order, then `people`;
 *   5. Saul signs the agent's trust level and daily limit (`trust`);
 *   6. Saul deposits `deposit` wei into the agent's wallet from his own
 *      account on the local chain (new wallets are empty: docs/limits.md).
 *
 * `start()` in the test's beforeAll, `close()` in its afterAll.
 */
import { createPublicClient, http, type Hex } from "viem";
import type { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ToolCallOutcome } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { as } from "@convos-pool/claims/testing";
import type { Agent } from "@convos-pool/instance";
import { signOperation } from "@convos-pool/kit/signing";
import type { TemplateContentJson } from "@convos-pool/kit/content";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import type { ConvosCli } from "@convos-pool/testing/convos-cli";
import { Person } from "@convos-pool/convos/person";
import { RealStack, type Conversation, type RealStackOptions } from "./real-stack.js";

export interface PeopleStackOptions {
  stack: RealStackOptions;
  /** The agent's template, over sampleContent's; or made from the running stack (a base it follows). */
  template: Partial<TemplateContentJson> | ((stack: RealStack) => Promise<Partial<TemplateContentJson>>);
  /** Convos CLIs (agents, to the agent) that join the conversation by its invite once the agent is in, by profile name. */
  members?: string[];
  /** People (no agent kind) who join by the invite before the agent is claimed, by profile name. */
  before?: string[];
  /** People (no agent kind) who join by the invite after the `members`, by profile name. */
  people?: string[];
  /** The owner's signed trust level for the agent, with its daily spending limit when it has one. */
  trust?: { level: TrustLevel; dailySpendLimitWei?: bigint };
  /** Wei the owner deposits into the agent's wallet. */
  deposit?: bigint;
}

export class PeopleStack {
  readonly stack: RealStack;
  /** The template's creator, no member of the conversation. */
  readonly creator = newIdentity();
  template!: Template;
  /** Saul: the conversation's creator and the agent's owner, as a signer. */
  owner!: TestIdentity;
  /** Saul's Convos CLI, serving the conversation. */
  ownerCli!: ConvosCli;
  /** The claimed agent's instance id. */
  agentId = "";
  /** Each member by profile name: their CLI, its `ready` event, its home. */
  readonly members = new Map<string, Conversation>();
  /** Each person by profile name. */
  readonly people = new Map<string, Person>();

  constructor(private readonly opts: PeopleStackOptions) {
    this.stack = new RealStack(opts.stack);
  }

  /** The claimed agent, on the stack's instance host as it runs now (a restarted host runs a new one). */
  get agent(): Agent {
    const agent = this.stack.host?.instances.get(this.agentId);
    if (!agent) throw new Error(`agent ${this.agentId} is not on the instance host`);
    return agent;
  }

  async start(): Promise<this> {
    const { stack, opts } = this;
    await stack.start();
    this.ownerCli = stack.cli!;
    const owner = await stack.personOf();
    this.owner = owner;
    const content = typeof opts.template === "function" ? await opts.template(stack) : opts.template;
    this.template = await signedTemplate(stack.templatesSc!.client, this.creator, sampleContent(content));
    for (const name of opts.before ?? []) await this.join(name);
    await stack.idleAgents(1);
    const { instanceId } = await stack.claimsSc!.client.claim(
      { requester: owner.inboxId, templateId: this.template.id, conversationInvite: stack.ready.inviteUrl },
      as(owner),
    );
    this.agentId = instanceId;
    for (const name of opts.members ?? []) this.members.set(name, await stack.join(name));
    for (const name of opts.people ?? []) await this.join(name);
    if (opts.trust) {
      const { level, dailySpendLimitWei } = opts.trust;
      const ownerSignature = await signOperation(owner.account, "SetTrustLevel", {
        inboxId: owner.inboxId,
        instanceId,
        trustLevel: level,
        dailySpendLimitWei: dailySpendLimitWei ?? 0n,
      });
      await stack.claimsSc!.client.setTrustLevel(
        {
          instanceId,
          trustLevel: level,
          ownerSignature,
          ...(dailySpendLimitWei === undefined ? {} : { dailySpendLimitWei: dailySpendLimitWei.toString() }),
        },
        as(owner),
      );
    }
    if (opts.deposit) await stack.deposit(this.handle("crypto"), opts.deposit);
    return this;
  }

  /** A member's Convos CLI: one of `members`. */
  memberCli(name: string): ConvosCli {
    const m = this.members.get(name);
    if (!m) throw new Error(`${name} is not one of the members: ${[...this.members.keys()].join(", ")}`);
    return m.cli;
  }

  /** Another person joins the conversation by its invite, as the Convos apps do (without the agent kind); close() closes them. */
  async join(name: string): Promise<Person> {
    const person = await Person.join(this.stack.ready.inviteUrl, {
      name,
      apiUrl: this.stack.node!.url,
      dir: this.stack.dir,
    });
    this.people.set(name, person);
    return person;
  }

  /** A person: one of `people`, or joined since. */
  person(name: string): Person {
    const p = this.people.get(name);
    if (!p) throw new Error(`${name} is not one of the people: ${[...this.people.keys()].join(", ")}`);
    return p;
  }

  /** The agent's handle of a pool tool: its number, address or wallet. */
  readonly handle = (toolId: string): string => {
    const tool = this.agent.configSnapshot?.tools.find((t) => t.toolId === toolId);
    if (!tool) throw new Error(`the agent has no ${toolId} tool`);
    return tool.handle;
  };

  /** An address's balance on the local chain, in wei. */
  readonly balance = (address: string): Promise<bigint> =>
    createPublicClient({ transport: http(this.stack.chain!.rpcUrl) }).getBalance({ address: address as Hex });

  /** The agent's activity as its owner reads it: "<action> <outcome>[ approved]" each. */
  readonly activity = async (): Promise<string[]> =>
    (
      await this.stack.claimsSc!.client.listAgentActivity({ instanceId: this.agentId, pageSize: 100 }, as(this.owner))
    ).entries.map((e) => `${e.action} ${ToolCallOutcome[e.outcome]}${e.approved ? " approved" : ""}`);

  async close(): Promise<void> {
    await Promise.all([...this.people.values()].map((p) => p.close().catch(() => undefined)));
    await this.stack.close();
  }
}
