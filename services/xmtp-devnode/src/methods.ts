/**
 * What a transport needs of each RPC: its service, name and kind, and a
 * handler that takes the request's bytes and returns the response's (a
 * streaming one writes to a sink instead).
 */

/** Where a streaming handler writes; the transport implements it. */
export interface StreamSink {
  /** Response headers now (gRPC clients built on tonic wait for them before they return a stream). */
  sendHeaders(): void;
  write(message: Uint8Array): void;
  /** True once the client went away or the stream was ended. */
  readonly closed: boolean;
  /** Called when the client cancels; `fn` runs once. */
  onClose(fn: () => void): void;
}

export type UnaryHandler = (request: Buffer) => Promise<Uint8Array>;
export type StreamHandler = (request: Buffer, sink: StreamSink) => Promise<void>;

/** An RPC: a unary one with its handler, a server stream with its, or a bidirectional one (none: unimplemented). */
export type MethodSpec = { service: string; method: string } & (
  | { kind: "unary"; unary: UnaryHandler }
  | { kind: "serverStream"; stream: StreamHandler }
  | { kind: "bidi" }
);
