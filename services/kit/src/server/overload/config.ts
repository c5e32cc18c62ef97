// POOL_ADMISSION: the server's admission from the environment
// (docs/server-kit.md, "Overload"). Empty: on, with the defaults below;
// `off`: every call let in at once (the kit as it was); else a
// comma-separated list of `min=`, `max=`, `initial=` (the learned limit's
// bounds and start) and `wait-ms=` (the longest wait for a slot of a call
// that carries a deadline; one without waits 1 s at most, admission.ts).

import type { AdmissionOptions } from "./admission.js";

/**
 * What the kit's servers learn from, unless told otherwise. The floor keeps
 * a burst of a few dozen calls (a test's, a batch's) from being refused
 * when a busy machine's latency shrinks the limit, and keeps a service that
 * batches (the claims service: latency ten times one claim's at 50 at
 * once, for five times the claims) from being held to a handful; the
 * tolerance of 2 lets latency double before the limit shrinks, for the
 * same reason. The start is what a service of ten database connections
 * does without queueing much.
 */
export const SERVER_ADMISSION: Partial<AdmissionOptions> = { limit: { initial: 64, min: 32, max: 1000, tolerance: 2 } };

const KEYS = { min: "min", max: "max", initial: "initial", "wait-ms": "maxWaitMs" } as const;

/** The options of `text`, or false for `off`; throws naming the entry that is wrong. */
export function parseAdmission(text = ""): Partial<AdmissionOptions> | false {
  const trimmed = text.trim();
  if (trimmed === "off") return false;
  const limit = { ...SERVER_ADMISSION.limit };
  const out: Partial<AdmissionOptions> = { ...SERVER_ADMISSION };
  for (const part of trimmed
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, value] = part.split("=", 2).map((s) => s.trim());
    const key = KEYS[name as keyof typeof KEYS];
    if (!key || !value || !/^[1-9][0-9]{0,5}$/.test(value))
      throw new Error(
        `POOL_ADMISSION: "${part}" is not <name>=<whole number from 1>, name one of ${Object.keys(KEYS).join(", ")}; or "off"`,
      );
    if (key === "maxWaitMs") out.maxWaitMs = Number(value);
    else limit[key] = Number(value);
  }
  if ((limit.min ?? 1) > (limit.max ?? Infinity))
    throw new Error(`POOL_ADMISSION: min ${limit.min} is above max ${limit.max}`);
  return { ...out, limit };
}

/** The server's admission: POOL_ADMISSION of the environment, or the defaults. */
export function admissionFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<AdmissionOptions> | false {
  return parseAdmission(env.POOL_ADMISSION ?? "");
}
