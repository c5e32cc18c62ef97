import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { fieldViolations } from "@convos-pool/kit/content";
import { GROUP_MEMBER_LIMIT } from "@convos-pool/convos";
import { checkNotFull, conversationKeyOf } from "./full-conversation.js";

describe("a full conversation", () => {
  it("takes an agent while there is a free place for one more member", () => {
    for (const members of [1, 2, GROUP_MEMBER_LIMIT - 1]) expect(() => checkNotFull(members)).not.toThrow();
  });

  it("refuses at XMTP's limit with FAILED_PRECONDITION naming conversation_invite, and says how many", () => {
    for (const members of [GROUP_MEMBER_LIMIT, GROUP_MEMBER_LIMIT + 7]) {
      let err: unknown;
      try {
        checkNotFull(members);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
      expect(fieldViolations(err).map((v) => v.field)).toEqual(["conversation_invite"]);
      expect((err as ConnectError).rawMessage).toContain(`${members} members`);
    }
  });

  it("knows no conversation from an invite that does not parse: the agent's join says why", async () => {
    for (const invite of ["", "not an invite", "https://dev.convos.org/v2?i=%%%"]) {
      expect(await conversationKeyOf(invite)).toBeUndefined();
    }
  });
});
