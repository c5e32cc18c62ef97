// Sealing to and from an agent, shared by the memory and address-book
// commands: both seal a value to the agent's memory key only once that key
// checks out as signed by the wallet of the inbox the pool lists for the
// agent, and both open what the agent sealed to a one-time key made here.
// The sealed box crosses REST as SealedJson (base64 fields).
import type { AgentJson, MemoryKeyJson, SealedJson } from "@convos-pool/gateway/rest-json";
import { sealTo, verifyMemoryKey, type SealedBoxBytes } from "@convos-pool/kit/signing";
import { CliError } from "../../core/errors.js";
import { request, type Context } from "../../core/http.js";

export const agentPath = (id: string) => `/api/pool/agents/${encodeURIComponent(id)}`;
export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const unb64 = (text: string) => new Uint8Array(Buffer.from(text, "base64"));

export const sealedToJson = (s: SealedBoxBytes): SealedJson => ({
  ephemeral_public_key: b64(s.ephemeralPublicKey),
  nonce: b64(s.nonce),
  ciphertext: b64(s.ciphertext),
});
export const sealedFromJson = (s: SealedJson): SealedBoxBytes => ({
  ephemeralPublicKey: unb64(s.ephemeral_public_key),
  nonce: unb64(s.nonce),
  ciphertext: unb64(s.ciphertext),
});

/** VALUE as JSON, sealed to agent ID's memory key once that key checks out; nothing is sealed (or sent) otherwise. */
export async function sealToAgent(ctx: Context, id: string, value: unknown): Promise<SealedBoxBytes> {
  const agent = (await request(ctx, "GET", agentPath(id), { auth: "session" })).body as AgentJson;
  const got = (await request(ctx, "GET", `${agentPath(id)}/memory/key`, { auth: "session" })).body as MemoryKeyJson;
  const memoryKey = {
    publicKey: unb64(got.key.public_key),
    agentAddress: got.key.agent_address,
    keySignature: got.key.key_signature,
  };
  try {
    await verifyMemoryKey(memoryKey, id, agent.inbox_id);
  } catch (err) {
    throw new CliError(
      `the agent's memory key does not check out, so nothing was sent: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return sealTo(memoryKey.publicKey, new TextEncoder().encode(JSON.stringify(value)));
}
