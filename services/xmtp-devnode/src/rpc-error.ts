import { status as Status } from "@grpc/grpc-js";

export { Status };

/** An error answered to the caller with its gRPC status code and message. */
export class RpcError extends Error {
  constructor(
    readonly code: Status,
    message: string,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

export function invalidArgument(message: string): RpcError {
  return new RpcError(Status.INVALID_ARGUMENT, message);
}
