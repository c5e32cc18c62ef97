// What a claim and its owner set (settings.ts), on a real workspace in a
// temporary directory: each setting written with its file, read back by a
// later start, and forgotten with the claim.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { resolveParticipation } from "@convos-pool/kit/content";
import { NO_SHARING } from "../../memory/sharing.js";
import { conversationFile, Workspace } from "../../platform/workspace.js";
import { Settings } from "./settings.js";
import type { InstanceConfig } from "./settings.js";

/** Its home conversation, whose folder holds its participation. */
const HOME = "0123456789abcdef0123456789abcdef";

const CONFIG: InstanceConfig = {
  instanceId: "inst_settings",
  template: {},
  templateId: "tpl-1",
  templateVersion: "1",
  agentName: "Tabby",
  ownerId: "0a4e".padEnd(64, "0"),
  model: "gpt-oss-20b",
  modelOverridden: false,
  tools: [],
  userConfig: {},
  configuredAt: "2026-01-01T00:00:00.000Z",
};

describe("an agent's settings", () => {
  let dir: string;
  let ws: Workspace;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "settings-"));
    ws = new Workspace(dir, "inst_settings");
    await ws.create();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes each setting to its file before it keeps it, and a later start reads them back", async () => {
    const settings = new Settings(ws, () => HOME);
    const paused = resolveParticipation({ mode: ParticipationMode.PAUSED, cooldownSeconds: 0 });
    await settings.setConfig(CONFIG);
    await settings.setParticipation(paused);
    await settings.setSharing({ offer: true, adopt: false });
    expect(settings.config).toEqual(CONFIG);

    const restarted = new Settings(ws, () => HOME);
    expect(await restarted.loadConfig()).toEqual(CONFIG);
    await restarted.loadOwnerSettings([HOME]);
    expect(restarted.participation).toEqual(paused);
    expect(restarted.sharing).toMatchObject({ offer: true, adopt: false });
  });

  it("keeps participation in its conversation's folder, and in none sets nothing", async () => {
    const paused = resolveParticipation({ mode: ParticipationMode.PAUSED, cooldownSeconds: 0 });
    await new Settings(ws, () => HOME).setParticipation(paused);
    expect(await ws.readJson(conversationFile(HOME, "participation"))).toMatchObject({ participation: paused });
    const nowhere = new Settings(ws, () => undefined);
    await expect(nowhere.setParticipation(paused)).rejects.toThrow(/in none/);
    await nowhere.loadOwnerSettings([]);
    expect(nowhere.participation).toEqual(resolveParticipation(undefined));
  });

  it("forgets the claim's config and the owner's settings at a Release, so the next claim starts from the defaults", async () => {
    const settings = new Settings(ws, () => HOME);
    await settings.setConfig(CONFIG);
    await settings.setParticipation(resolveParticipation({ mode: ParticipationMode.PAUSED, cooldownSeconds: 60 }));
    await settings.setSharing({ offer: true, adopt: true });
    settings.forget();
    expect(settings.config).toBeUndefined();
    expect(settings.participation).toEqual(resolveParticipation(undefined));
    expect(settings.sharing).toEqual(NO_SHARING);
  });

  it("reads no config as idle, and no owner's settings as the defaults", async () => {
    const settings = new Settings(ws, () => HOME);
    expect(await settings.loadConfig()).toBeUndefined();
    await ws.writeJson(conversationFile(HOME, "participation"), {});
    await settings.loadOwnerSettings([HOME]);
    expect(settings.participation).toEqual(resolveParticipation(undefined));
    expect(settings.sharing).toEqual(NO_SHARING);
  });

  it("keeps each conversation's participation apart, and reads the one at hand", async () => {
    const OTHER = "b".repeat(32);
    let at = HOME;
    const settings = new Settings(ws, () => at);
    const paused = resolveParticipation({ mode: ParticipationMode.PAUSED, cooldownSeconds: 0 });
    const mention = resolveParticipation({ mode: ParticipationMode.MENTION, cooldownSeconds: 30 });
    await settings.setParticipation(paused);
    await settings.setParticipation(mention, OTHER);
    expect(settings.participation).toEqual(paused);
    at = OTHER;
    expect(settings.participation).toEqual(mention);

    const restarted = new Settings(ws, () => at);
    await restarted.loadOwnerSettings([HOME, OTHER]);
    expect(restarted.participation).toEqual(mention);
    expect(restarted.participationIn(HOME)).toEqual(paused);
  });

  it("keeps a person's pause beside the owner's setting, in its conversation only, across a start; the owner's setting, any mode, ends it", async () => {
    const OTHER = "c".repeat(32);
    const mention = resolveParticipation({ mode: ParticipationMode.MENTION, cooldownSeconds: 30 });
    const settings = new Settings(ws, () => HOME);
    await settings.setParticipation(mention);
    const pause = { by: "9e45".padEnd(64, "0"), at: "2026-11-29T18:00:00.000Z" };
    const kept = settings.setMemberPause(HOME, pause);
    // Kept at once, before it is written: no turn after the pause answers.
    expect(settings.memberPauseIn(HOME)).toEqual(pause);
    await kept;
    expect(settings.memberPauseIn(OTHER)).toBeUndefined();
    expect(settings.participationIn(HOME)).toEqual(mention);

    const restarted = new Settings(ws, () => HOME);
    await restarted.loadOwnerSettings([HOME, OTHER]);
    expect(restarted.memberPauseIn(HOME)).toEqual(pause);
    expect(restarted.memberPauseIn(OTHER)).toBeUndefined();
    expect(restarted.participation).toEqual(mention);
    await restarted.setMemberPause(HOME, { ...pause, toldOnlyOwner: true });
    expect(restarted.memberPauseIn(HOME)).toEqual({ ...pause, toldOnlyOwner: true });

    // The owner's signed setting, even the same mode, ends it, written too.
    await restarted.setParticipation(mention);
    expect(restarted.memberPauseIn(HOME)).toBeUndefined();
    const again = new Settings(ws, () => HOME);
    await again.loadOwnerSettings([HOME]);
    expect(again.memberPauseIn(HOME)).toBeUndefined();

    // The owner's resume said in the conversation ends it as well; a Release forgets it.
    await again.setMemberPause(HOME, pause);
    await again.setMemberPause(HOME, undefined);
    await again.loadOwnerSettings([HOME]);
    expect(again.memberPauseIn(HOME)).toBeUndefined();
    await again.setMemberPause(HOME, pause);
    again.forget();
    expect(again.memberPauseIn(HOME)).toBeUndefined();
  });
});
