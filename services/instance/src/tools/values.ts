// TEMPORARY: position-aware readers over the origin rule's regexes, until the
// readers move here (libphonenumber-js, viem) on their own branch.
import { getAddress, parseUnits } from "viem";

export type TargetKind = "address" | "phone" | "mailbox";

export interface Found<T> {
  value: T;
  start: number;
  end: number;
}

const ADDRESS = /(?<![0-9A-Za-z])0x[0-9a-fA-F]{40}(?![0-9A-Za-z])/g;
const PHONE = /(?<![\w+])\+\d(?:[ .\-()]{0,2}\d)*/g;
const E164 = /^\+[1-9]\d{6,14}$/;
const MAILBOX =
  /[^\s<>()[\]{}",;:“”‘’«»]+@[^\s<>()[\]{}",;:“”‘’«»]+\.[^\s<>()[\]{}",;:“”‘’«»]*[^\s<>()[\]{}",;:“”‘’«».!?'`*_~]/g;
const AMOUNT = /(?<![\w.+-])(\d+(?:\.\d+)?|\.\d+)\s?(eth|ether|gwei|wei)(?![0-9A-Za-z_])/gi;
const DECIMALS: Readonly<Record<string, number>> = { eth: 18, ether: 18, gwei: 9, wei: 0 };

export function findTargets(kind: TargetKind, text: string): Found<string>[] {
  const out: Found<string>[] = [];
  const re = kind === "address" ? ADDRESS : kind === "phone" ? PHONE : MAILBOX;
  for (const m of text.matchAll(re)) {
    const raw = m[0];
    let value: string | undefined;
    if (kind === "address") value = getAddress(raw.toLowerCase());
    else if (kind === "phone") {
      const n = `+${raw.replace(/\D/g, "")}`;
      value = E164.test(n) ? n : undefined;
    } else {
      const lead = /^(?:mailto:)?['`*_~.!?]*/i.exec(raw)?.[0].length ?? 0;
      const v = raw.slice(lead);
      if (/^[^@]+@[^@]+\.[^@]+$/.test(v))
        out.push({ value: v.toLowerCase(), start: m.index + lead, end: m.index + raw.length });
      continue;
    }
    if (value) out.push({ value, start: m.index, end: m.index + raw.length });
  }
  return out;
}

export function findAmounts(text: string): Found<bigint>[] {
  const out: Found<bigint>[] = [];
  for (const m of text.matchAll(AMOUNT)) {
    const [, number = "", unit = ""] = m;
    const decimals = DECIMALS[unit.toLowerCase()] ?? 18;
    if ((number.split(".")[1]?.length ?? 0) > decimals) continue;
    out.push({
      value: parseUnits(number.startsWith(".") ? `0${number}` : number, decimals),
      start: m.index,
      end: m.index + m[0].length,
    });
  }
  return out;
}
