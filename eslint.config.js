// ESLint flat config. The import-boundary blocks below enforce the layering of
// docs/architecture.md ("who may import whom"); they are checked, not remembered.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const domain = ["events", "rooms", "streams", "notifier", "sync", "storage", "accounts", "filters", "push", "keys", "userdata", "ephemeral"];

/** Forbid a folder from importing the given folders (paths are relative imports). */
function forbid(folder, banned, message) {
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: banned.map((b) => ({ group: [`**/${b}/*`, `**/${b}`], message })),
      }],
    },
  };
}

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "data/**", "test-artifacts/**", "**/.venv*/**", "bench/.cache/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "error",
    },
  },
  // Domain code never reaches up into HTTP or API layers, and never picks a storage backend.
  ...domain.map((d) => forbid(d, ["http", "api", "sqlite", "postgres", "app"],
    "domain code must not import http/, api/, a concrete storage backend or the composition root")),
  forbid("errors", ["http", "api", "storage", "rooms", "sync", "accounts", "events", "streams", "notifier"],
    "errors/ is a leaf module"),
  forbid("util", ["http", "api", "storage", "rooms", "sync", "accounts", "events", "streams", "notifier"],
    "util/ is a leaf module"),
  forbid("config", ["http", "api", "storage", "rooms", "sync", "accounts", "streams", "notifier"],
    "config/ is a leaf module"),
  forbid("api", ["sqlite", "postgres"], "api/ talks to use cases, never to a storage backend"),
  { files: ["src/cli/**/*.ts", "src/main.ts", "tests/**/*.ts", "bench/**/*.ts"], rules: { "no-console": "off" } },
  { files: ["**/*.js", "**/*.mjs"], languageOptions: { globals: { process: "readonly", console: "readonly" } } },
);
