// Lint with type information: the promise rules need the types. Formatting is
// Biome's (biome.json), so no rule here is about layout.
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

export default tseslint.config(
  { ignores: ["gen/**", "**/node_modules/**", "services/web/dist/**", "**/*.js", "**/*.mjs"] },
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
    },
  },
  {
    files: [`${INSTANCE}/**/*.ts`],
    ignores: ["**/*.test.ts"],
    rules: { "import-x/no-restricted-paths": ["error", { zones: instanceFloors }] },
  },
);
