import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, type ConnectError, type Client } from "@connectrpc/connect";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, expect, it, onTestFinished } from "vitest";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { XmtpInboxResolver, createXmtpClient, ethereumIdentifier, walletSigner } from "@convos-pool/convos";
import { generateServiceCredentials, createServiceClient } from "@convos-pool/kit/server";
import { contentFromJson, contentToJson, jsonHash } from "@convos-pool/kit/content";
import { signOperation } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { sampleContent } from "@convos-pool/kit/testing";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { startTemplateService, type RunningTemplateService } from "./server.js";

const CREDS = generateServiceCredentials();
let node: RunningDevnode;
let service: RunningTemplateService;
let client: Client<typeof TemplateService>;
let dir: string;

beforeAll(async () => {
  node = await startDevnode({ port: 0, databaseUrl: await createTestDatabase("tmpl-xmtp-node") });
  service = await startTemplateService({
    databaseUrl: await createTestDatabase("tmpl-xmtp"),
    credentials: CREDS.templates,
    resolver: await XmtpInboxResolver.connect({ apiUrl: node.url, cacheMs: 0 }),
  });
  client = createServiceClient(TemplateService, service.url, CREDS.gateway).client;
  dir = await mkdtemp(join(tmpdir(), "tmpl-xmtp-"));
});

afterAll(async () => {
  await service?.close();
  await node?.close();
  await rm(dir, { recursive: true, force: true });
});

it("accepts a creator's second wallet once the network associates it, and refuses it once removed", {
  timeout: 60_000,
}, async () => {
  const first = privateKeyToAccount(generatePrivateKey());
  const second = privateKeyToAccount(generatePrivateKey());
  const xmtp = await createXmtpClient(first, {
    apiUrl: node.url,
    dbPath: join(dir, "creator.db3"),
    dbEncryptionKey: randomBytes(32),
  });
  onTestFinished(() => xmtp.close());
  const inboxId = xmtp.inboxId;
  const content = contentFromJson(sampleContent());
  const create = async (signer: typeof first) =>
    client.createTemplate({
      creatorId: inboxId,
      content,
      signature: await signOperation(signer, "CreateTemplate", {
        inboxId,
        contentHash: jsonHash(contentToJson(content)),
      }),
    });
  const code = (p: Promise<unknown>) =>
    p.then(
      () => "ok",
      (e: unknown) => Code[(e as ConnectError).code],
    );

  expect(await code(create(first))).toBe("ok");
  expect(await code(create(second))).toBe("PermissionDenied");

  await xmtp.unsafe_addAccount(walletSigner(second), true);
  expect(await code(create(second))).toBe("ok");

  await xmtp.removeAccount(ethereumIdentifier(second.address));
  expect(await code(create(second))).toBe("PermissionDenied");
  expect(await code(create(first))).toBe("ok");
});
