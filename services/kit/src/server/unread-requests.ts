// A request answered before it was read to its end (one refused as larger
// than maxRequestBytes, or whose first message did not parse): connect-es
// stops reading and drops the rest. Over HTTP/2, Node counts data a stream
// received but nobody read against its connection's memory (maxSessionMemory,
// 10 MB), and does not give it back when the stream goes: after a few such
// requests Node refuses every new stream of the connection with
// ENHANCE_YOUR_CALM, good calls too, until the client opens another. (Found
// by the fuzzing, docs/reliability.md.) So what connect-es leaves unread is
// read here, in the background, and dropped, up to DRAIN_LIMIT bytes; past
// that the stream is let go as before.

import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";

/** Bytes read and dropped at most after connect-es stopped reading a request. */
export const DRAIN_LIMIT = 16 * 1024 * 1024;

export function drainUnreadRequests(handler: UniversalHandler): UniversalHandler {
  const wrapped = (req: UniversalServerRequest) => {
    const body = req.body;
    if (body === null || typeof body !== "object" || !(Symbol.asyncIterator in body)) return handler(req);
    return handler({ ...req, body: drainingWhenLeft(body) });
  };
  return Object.assign(wrapped, handler);
}

async function* drainingWhenLeft(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // The reader left early: the rest is read without holding up the answer.
    if (!ended) void drain(it);
  }
}

async function drain(it: AsyncIterator<Uint8Array>): Promise<void> {
  let read = 0;
  try {
    while (read <= DRAIN_LIMIT) {
      const next = await it.next();
      if (next.done) return;
      read += next.value.length;
    }
    await it.return?.();
  } catch {
    // the request was aborted: nothing is left to read
  }
}
