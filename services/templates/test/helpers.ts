/**
 * TEST HELPERS, NOT PRODUCT CODE. What the templates service's gRPC tests
 * share: a signed-in caller (the caller header the gateway forwards), and a
 * call that must fail with a given code.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { expect } from "vitest";
import { CALLER_HEADER } from "@convos-pool/kit/content";
import type { TestIdentity } from "@convos-pool/kit/testing";

/** Call options of `who`, signed in. */
export const as = (who: TestIdentity) => ({ headers: { [CALLER_HEADER]: who.inboxId } });

/** Awaits a call that must fail with `code`; its error. */
export async function expectCode(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the call should have failed").toBeInstanceOf(ConnectError);
  expect(Code[(err as ConnectError).code]).toBe(Code[code]);
  return err as ConnectError;
}
