// ListModels: the models the pool serves (policy.ts), for the studio's picker.
// Public: which models a pool runs is no secret, and a creator needs the list
// before signing anything.
import type { ServiceImpl } from "@connectrpc/connect";
import type { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";

export function createModelHandlers(
  served: readonly string[],
): Pick<ServiceImpl<typeof TemplateService>, "listModels"> {
  return {
    listModels: () => ({ models: [...served] }),
  };
}
