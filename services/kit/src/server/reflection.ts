// The standard gRPC server reflection protocol (grpc.reflection.v1), so that
// grpcurl and buf curl reach a pool service without its schema files: the
// server answers with the descriptors its generated code already carries.
// startServer registers it on every server, beside health; like health it
// needs no credential (the contracts are public, the calls are not).

import {
  create,
  toBinary,
  type DescFile,
  type DescMessage,
  type DescService,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import {
  ServerReflection,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
} from "@convos-pool/gen/grpc/reflection/v1/reflection_pb.js";

export const REFLECTION_SERVICE = ServerReflection.typeName;

/** What the server's services are made of: every file by name, and the file of every symbol. */
class Descriptors {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();

  constructor(readonly services: readonly DescService[]) {
    for (const s of services) this.addFile(s.file);
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const s of file.services) {
      this.symbols.set(s.typeName, file);
      for (const m of s.methods) this.symbols.set(`${s.typeName}.${m.name}`, file);
    }
    const addMessage = (m: DescMessage) => {
      this.symbols.set(m.typeName, file);
      m.nestedMessages.forEach(addMessage);
      for (const e of m.nestedEnums) this.symbols.set(e.typeName, file);
    };
    file.messages.forEach(addMessage);
    for (const e of file.enums) this.symbols.set(e.typeName, file);
    for (const d of file.dependencies) this.addFile(d);
  }

  /** The file and every file it imports, transitively, the asked one first. */
  withImports(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const add = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(add);
    };
    add(file);
    return out;
  }

  answer(req: ServerReflectionRequest): MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"] {
    const notFound = (what: string) => ({
      case: "errorResponse" as const,
      value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
    });
    const m = req.messageRequest;
    switch (m.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.services.map((s) => ({ name: s.typeName })) } };
      case "fileByFilename": {
        const file = this.files.get(m.value);
        return file
          ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: this.withImports(file) } }
          : notFound(`file ${m.value}`);
      }
      case "fileContainingSymbol": {
        const file = this.symbols.get(m.value.replace(/^\./, ""));
        return file
          ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: this.withImports(file) } }
          : notFound(`symbol ${m.value}`);
      }
      case "allExtensionNumbersOfType":
        // The pool's messages declare no extensions.
        return this.symbols.has(m.value)
          ? { case: "allExtensionNumbersResponse", value: { baseTypeName: m.value, extensionNumber: [] } }
          : notFound(`type ${m.value}`);
      case "fileContainingExtension":
        return notFound(`extension ${m.value.extensionNumber} of ${m.value.containingType}`);
      default:
        return {
          case: "errorResponse",
          value: { errorCode: Code.InvalidArgument, errorMessage: "the request asks for nothing" },
        };
    }
  }
}

/** A response's answer, left out when there is none (a request naming nothing this server knows how to answer). */
function withAnswer(
  answer: MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"],
): Pick<MessageInitShape<typeof ServerReflectionResponseSchema>, "messageResponse"> {
  return answer ? { messageResponse: answer } : {};
}

/** Registers ServerReflection; `services` are read at the first request, once every service is registered. */
export function registerReflection(router: ConnectRouter, services: () => readonly DescService[]): void {
  let descriptors: Descriptors | undefined;
  router.service(ServerReflection, {
    async *serverReflectionInfo(requests) {
      descriptors ??= new Descriptors(services());
      for await (const req of requests) {
        yield create(ServerReflectionResponseSchema, {
          validHost: req.host,
          originalRequest: req,
          ...withAnswer(descriptors.answer(req)),
        });
      }
    },
  });
}
