// One instance's error within a host's batch call (ConfigureInstances,
// JoinConversations, AttestInstances; instance_host_service.proto): the code, message and
// details its own call would have failed with, carried as an
// InstanceCallError, so the claims service reads back the very error the
// single call gives. The instance host and the claims service's stand-in host
// write it, the claims service's runtime reads it.

import { create } from "@bufbuild/protobuf";
import { anyPack, AnySchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  InstanceCallErrorSchema,
  type InstanceCallError,
} from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { boundedError } from "./bounded-errors.js";

/** What an instance's own call threw, as its host answers it: bounded as a server bounds an error (boundedError). */
export function toInstanceCallError(err: unknown): InstanceCallError {
  const e = boundedError(ConnectError.from(err));
  return create(InstanceCallErrorSchema, {
    code: e.code,
    message: e.rawMessage,
    details: e.details.map((d) =>
      "desc" in d
        ? anyPack(d.desc, create(d.desc, d.value))
        : create(AnySchema, { typeUrl: `type.googleapis.com/${d.type}`, value: d.value }),
    ),
  });
}

/** The error an InstanceCallError stands for, details included (`findDetails` and `fieldViolations` read them). */
export function fromInstanceCallError(e: InstanceCallError | undefined): ConnectError {
  if (!e) return new ConnectError("the host answered no outcome for this instance", Code.Internal);
  // 0 is OK, not an error; a number this version does not know is UNKNOWN, as the wire protocols read it.
  const err = new ConnectError(e.message, e.code !== 0 && Code[e.code] !== undefined ? e.code : Code.Unknown);
  err.details = e.details.map((a) => ({ type: a.typeUrl.slice(a.typeUrl.lastIndexOf("/") + 1), value: a.value }));
  return err;
}
