// The end of `npm test`'s output: the 15 slowest test files, then one plain
// line with the counts. Reads vitest's JSON report.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

const report = JSON.parse(readFileSync(process.argv[2], "utf8"));
const files = report.testResults
  .map((f) => ({
    file: relative(process.cwd(), f.name),
    ms: f.endTime - f.startTime,
    tests: f.assertionResults.length,
  }))
  .sort((a, b) => b.ms - a.ms);
console.log("\nslowest test files:");
for (const f of files.slice(0, 15))
  console.log(`${(f.ms / 1000).toFixed(1).padStart(7)} s  ${f.file} (${f.tests} tests)`);
console.log(`vitest: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
