// The confusable skeleton of Unicode TR 39 (section 4, "Confusable
// Detection"): NFD, each character replaced by its prototype from the
// confusables data, NFD again. Two strings that look alike have the same
// skeleton: "іgnore" with a Cyrillic і and "ignore" both give "ignore". The
// data and the replacement step are the npm package unhomoglyph (Unicode's
// confusables.txt, version 13; MIT), which does the middle step and nothing
// else. A skeleton is for comparing, not for reading: "m" becomes "rn", "1"
// and "I" become "l", "0" becomes "O".
import unhomoglyph from "unhomoglyph";

export function confusableSkeleton(text: string): string {
  return unhomoglyph(text.normalize("NFD")).normalize("NFD");
}
