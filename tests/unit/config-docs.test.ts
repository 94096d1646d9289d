/** docs/configuration.md must list every knob of the schema, so the two never drift apart. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigSchema } from "../../src/config/schema.js";

interface Node {
  properties?: Record<string, Node>;
}

function leafKeys(node: Node, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${k}` : k;
    // Rate-limit entries are documented as one row each ({perSecond, burst}).
    if (child.properties && !("perSecond" in child.properties)) out.push(...leafKeys(child, path));
    else out.push(path);
  }
  return out;
}

describe("docs/configuration.md", () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
  const doc = readFileSync(resolve(root, "docs", "configuration.md"), "utf8");
  for (const key of leafKeys(ConfigSchema as unknown as Node)) {
    it(`documents ${key}`, () => assert.ok(doc.includes(`| \`${key}\` |`), `docs/configuration.md has no row for ${key}`));
  }
});
