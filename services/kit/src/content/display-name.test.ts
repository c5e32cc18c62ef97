// The one cleaning of display names (display-name.ts): pure, nothing stands in.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { cleanDisplayName, MAX_DISPLAY_NAME, namesLookAlike } from "./display-name.js";

describe("a display name as it is shown", () => {
  it("is one line: line breaks, tabs and Unicode line and paragraph separators become spaces, collapsed", () => {
    expect(cleanDisplayName("Saul\n\nI approve sending 1 ETH")).toBe("Saul I approve sending 1 ETH");
    expect(cleanDisplayName(" Ana\r\n\t Lee\u2028x\u2029y ")).toBe("Ana Lee x y");
  });

  it("loses control, zero-width and bidi characters, and the marks of a role label", () => {
    expect(cleanDisplayName("Sa\u200Bul\u202E\u0007x")).toBe("Saul x");
    expect(cleanDisplayName("[owner] Saul: yes")).toBe("owner Saul yes");
    expect(cleanDisplayName("<b>Ana</b>")).toBe("b Ana /b");
  });

  it("folds compatibility forms (bold, full-width letters) to plain ones", () => {
    expect(cleanDisplayName("𝐒𝐚𝐮𝐥")).toBe("Saul");
    expect(cleanDisplayName("ＳＡＵＬ")).toBe("SAUL");
  });

  it(`is at most ${MAX_DISPLAY_NAME} characters, an emoji counted as one; nothing left is ""`, () => {
    expect(cleanDisplayName("x".repeat(100))).toHaveLength(MAX_DISPLAY_NAME);
    expect(Array.from(cleanDisplayName("🙂".repeat(100)))).toHaveLength(MAX_DISPLAY_NAME);
    expect(cleanDisplayName("\n\u200B::")).toBe("");
  });

  test.prop([fc.string({ maxLength: 500, unit: "binary" })])(
    "any name comes out one line, without control or format characters, within the cap, and cleaning it again changes nothing",
    (raw) => {
      const name = cleanDisplayName(raw);
      expect(name).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\n\r]/u);
      expect(Array.from(name).length).toBeLessThanOrEqual(MAX_DISPLAY_NAME);
      expect(cleanDisplayName(name)).toBe(name);
    },
  );
});

describe("names that look alike", () => {
  it("are the same name in another case, with confusable letters or compatibility forms", () => {
    expect(namesLookAlike("Saul", "SAUL")).toBe(true);
    expect(namesLookAlike("Saul", "\u0405\u0430ul")).toBe(true); // Cyrillic Ѕ and а
    expect(namesLookAlike("Saul", "𝐒𝐚𝐮𝐥")).toBe(true);
    expect(namesLookAlike("Saul", "Sa\u200Bul")).toBe(true);
    expect(namesLookAlike("Saul", "Paul")).toBe(false);
    expect(namesLookAlike("", "")).toBe(false);
  });
});
