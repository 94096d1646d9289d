/**
 * Validates responses against the Matrix spec's own OpenAPI documents
 * (../shared/spec/data/api/client-server/*.yaml, or SLUICE_SPEC_DIR) with ajv.
 * Schemas are referenced inside their OpenAPI document by JSON pointer so that relative
 * file $refs (definitions/…) and in-document refs (#/components/…) both resolve.
 * Usage: `await assertMatchesSpec("login.yaml", "/login", "post", 200, body)`.
 */
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { parse as parseYaml } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
/** dist/tests/integration → repository root → its sibling shared/. */
const repoRoot = resolve(here, "..", "..", "..");
export const SPEC_DIR = process.env.SLUICE_SPEC_DIR ?? join(repoRoot, "..", "shared", "spec", "data");

let ajv: Ajv2020 | null = null;
const cache = new Map<string, Promise<ValidateFunction>>();

function getAjv(): Ajv2020 {
  if (ajv) return ajv;
  if (!existsSync(SPEC_DIR)) throw new Error(`Matrix spec data not found at ${SPEC_DIR} (set SLUICE_SPEC_DIR)`);
  const instance = new Ajv2020({
    strict: false,
    allErrors: true,
    loadSchema: async (uri: string) => {
      const file = uri.split("#")[0]!;
      return { ...(parseYaml(readFileSync(fileURLToPath(file), "utf8")) as object), $id: file };
    },
  });
  const addFormats = addFormatsModule as unknown as (a: Ajv2020) => void;
  addFormats(instance);
  const formats = parseYaml(readFileSync(join(SPEC_DIR, "string-formats.yaml"), "utf8")) as Record<string, unknown>;
  for (const f of Object.keys(formats)) if (!instance.formats[f]) instance.addFormat(f, true);
  ajv = instance;
  return instance;
}

function escapePointer(s: string): string {
  return s.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** Compiled validator for one response of one operation. */
export function responseValidator(apiFile: string, path: string, method: string, status: number): Promise<ValidateFunction> {
  const key = `${apiFile} ${method} ${path} ${status}`;
  let v = cache.get(key);
  if (!v) {
    const docUrl = pathToFileURL(join(SPEC_DIR, "api", "client-server", apiFile)).href;
    const pointer = `#/paths/${escapePointer(path)}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
    v = getAjv().compileAsync({ $id: `${docUrl}?response=${encodeURIComponent(key)}`, $ref: docUrl + pointer });
    cache.set(key, v);
  }
  return v;
}

/** Asserts that `body` is a valid response per the spec; the message lists every violation. */
export async function assertMatchesSpec(apiFile: string, path: string, method: string, status: number, body: unknown): Promise<void> {
  const validate = await responseValidator(apiFile, path, method, status);
  const ok = validate(body);
  assert.ok(ok, `response does not match ${apiFile} ${method.toUpperCase()} ${path} ${status}: ${JSON.stringify(validate.errors)}\nbody: ${JSON.stringify(body)}`);
}
