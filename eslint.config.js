// Lint with type information: typescript-eslint's recommended-type-checked
// set, and the house's own rules below. Formatting is Biome's (biome.jsonc),
// so no rule here is about layout. Each rule turned off says why.
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

// Each service's floors, top to bottom, one row per package (each drawn in
// its doc, "Where the code lives"): a folder imports only the folders below
// it, so that a change to a lower room never has to read a higher one. A
// service's entry files (main.ts, index.ts, server.ts) stand above every
// floor. Tests are not floors: they may set up with any of them. A floor
// may have floors of its own: a row whose root is that folder. Exported for
// scripts/floors.test.ts, which holds each row to its folders and its doc.
export const FLOORS = {
  "services/instance/src": [
    "host",
    "openclaw",
    "agent",
    "model",
    "clone",
    "memory",
    "connections",
    "tools",
    "walls",
    "platform",
  ],
  "services/instance/src/agent": ["face", "life", "conversation", "voice", "turns", "state"],
  "services/instance/src/tools": [
    "toolbox",
    "confirmations",
    "address-book",
    "approvals",
    "schedules",
    "gate",
    "request",
    "functions",
    "routing",
    "providers",
    "trust",
  ],
  "services/claims/src": [
    "schema",
    "address-book",
    "memory",
    "approvals",
    "confirmations",
    "badge",
    "vault",
    "placement",
    "schedules",
    "draft",
    "conversations",
    "claim",
    "pool",
    "sync",
    "budget",
    "templates",
    "hosts",
    "signer",
    "tools",
    "providers",
    "db",
  ],
  "services/kit/src": ["service", "server", "signing", "client", "content", "time"],
  "services/templates/src": [
    "rollout",
    "template",
    "curation",
    "sync",
    "release",
    "ratings",
    "usage",
    "models",
    "catalog",
    "db",
  ],
  "services/lineage/src": ["marks", "signals", "patterns", "activity", "lineage", "db"],
  "services/gateway/src": ["rest", "connect", "convos-sign-in", "sessions", "limits", "web"],
  "services/gateway/src/rest": [
    "claims",
    "rollouts",
    "ratings",
    "curation",
    "agents",
    "memory",
    "address-book",
    "approvals",
    "schedules",
    "lineage",
    "patterns",
    "signals",
    "sessions",
    "templates",
    "core",
  ],
  "services/cli/src": ["command-line", "commands", "core"],
  "services/cli/src/commands": [
    "openclaw",
    "rollouts",
    "curation",
    "conversations",
    "address-book",
    "approvals",
    "schedules",
    "keys",
    "memory",
    "patterns",
    "ratings",
    "signals",
    "verify",
    "agents",
    "templates",
  ],
  "services/web/src": ["studio", "dashboard", "rollouts", "store", "agent", "sign-in", "ui", "words"],
};
// A root's entry points stand above its floors: a service's wiring, a package's index, the web app's
// main and app, the REST route table.
const ENTRIES = ["main.ts", "index.ts", "server.ts", "routes.ts", "main.tsx", "app.tsx"];
const floorZones = (root, floors) =>
  floors.map((floor, i) => ({
    target: `${root}/${floor}`,
    from: [...ENTRIES.map((e) => `${root}/${e}`), ...floors.slice(0, i).map((f) => `${root}/${f}`)],
    message: `${floor}/ is below ${floors.slice(0, i).join(", ") || "the entry points"}: a lower floor never imports a higher one (${root}).`,
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
      // import-x resolves what a file imports to place it on a floor: TypeScript, resolved as tsc does.
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
    // One rule for every row: a nested row's file keeps its package's floors too (.tsx: the web app's).
    files: Object.keys(FLOORS).flatMap((root) => [`${root}/**/*.ts`, `${root}/**/*.tsx`]),
    ignores: ["**/*.test.ts", "**/*.test.tsx"],
    rules: {
      "import-x/no-restricted-paths": [
        "error",
        { zones: Object.entries(FLOORS).flatMap(([root, floors]) => floorZones(root, floors)) },
      ],
    },
  },
  {
    // A product file says one thing: past 600 lines of code it is two (docs/testing.md).
    files: ["services/*/src/**/*.ts", "services/*/src/**/*.tsx"],
    ignores: TEST_CODE,
    rules: { "max-lines": ["error", { max: 600, skipBlankLines: true, skipComments: true }] },
  },
);
