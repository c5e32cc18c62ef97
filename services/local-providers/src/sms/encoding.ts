// How a carrier encodes a text and into how many SMS parts it splits it
// (Telnyx reports both on every message). Pure.

// GSM 03.38: the default alphabet (one septet) and its extension table (two).
const GSM_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
const GSM_EXTENDED = new Set("\f^{}\\[~]|€");

/**
 * GSM-7 when every character is in the GSM alphabet (160 septets in one
 * part, 153 per part of a longer text), else UCS-2 (70 UTF-16 units in one
 * part, 67 per part).
 */
export function smsParts(text: string): { encoding: "GSM-7" | "UCS-2"; parts: number } {
  let septets = 0;
  for (const ch of text) {
    if (GSM_BASIC.has(ch)) septets += 1;
    else if (GSM_EXTENDED.has(ch)) septets += 2;
    else {
      const units = text.length;
      return { encoding: "UCS-2", parts: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: "GSM-7", parts: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}
