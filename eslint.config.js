// Lint with type information: typescript-eslint's recommended-type-checked
// set, and the house's own rules below. Formatting is Biome's (biome.jsonc),
// so no rule here is about layout. Each rule turned off says why.
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

// The instance service's floors, top to bottom (docs/instance.md, "Where the
// code lives"): a folder imports only the folders below it, so that a change
// to a lower room never has to read a higher one. Tests are not floors: they
// may set up with any of them.
const INSTANCE = "services/instance/src";
const INSTANCE_FLOORS = ["host", "openclaw", "agent", "model", "clone", "memory", "tools", "platform"];
const instanceFloors = INSTANCE_FLOORS.map((floor, i) => ({
  target: `${INSTANCE}/${floor}`,
  from: [`${INSTANCE}/main.ts`, `${INSTANCE}/index.ts`, ...INSTANCE_FLOORS.slice(0, i).map((f) => `${INSTANCE}/${f}`)],
  message: `${floor}/ is below ${INSTANCE_FLOORS.slice(0, i).join(", ") || "the entry points"}: a lower floor never imports a higher one (docs/instance.md).`,
}));

// Code that only tests run: test files, the shared harnesses, browser tests,
// the deploy tests and the benchmarks (programs that measure, not product).
const TEST_CODE = [
  "**/*.test.ts",
  "**/*.openclaw-test.ts",
  "services/testing/**",
  "services/*/test/**",
  "services/e2e/**",
  "deploy/test/**",
  "bench/**",
];

export default tseslint.config(
  { ignores: ["gen/**", "**/node_modules/**", "services/web/dist/**", "**/*.js", "**/*.mjs"] },
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: ["**/*.ts", "**/*.tsx"] })),
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin, "import-x": importX },
    settings: {
      // import-x reads the modules a file imports to follow cycles: TypeScript, resolved as tsc does.
      "import-x/extensions": [".ts", ".tsx", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".tsx"] },
      "import-x/resolver-next": [
        createTypeScriptImportResolver({
          noWarnOnMultipleProjects: true,
          project: ["tsconfig.json", "services/web/tsconfig.json", "services/e2e/browser/tsconfig.json"],
        }),
      ],
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "import-x/no-cycle": "error",
      // Off: an `async` function that implements a promise-returning interface
      // without awaiting (the offline model, a stand-in of a provider) says
      // what it returns and turns a throw into a rejection; the rule would have
      // it build `Promise.resolve` by hand instead.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    files: TEST_CODE,
    rules: {
      // Off in test code: tests read what real servers answer (JSON bodies,
      // SDK messages, process output, database rows) as untyped values and
      // assert on them; `expect` is what checks their shape there, and typing
      // each answer first would only repeat the assertion.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    files: [`${INSTANCE}/**/*.ts`],
    ignores: ["**/*.test.ts"],
    rules: { "import-x/no-restricted-paths": ["error", { zones: instanceFloors }] },
  },
);
