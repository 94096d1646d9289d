/**
 * Loads the configuration: YAML file (optional) + SLUICE_* env overrides → validated Config.
 * In:  the environment (SLUICE_CONFIG names the file; default ./sluice.yaml, fine if absent).
 * Out: a frozen Config, or a ConfigError listing every wrong key with its path.
 * Env overrides win over the file: SLUICE_SERVER_NAME, SLUICE_LISTEN (host:port),
 * SLUICE_DATABASE (SQLite path), SLUICE_REGISTRATION (closed|open|token),
 * SLUICE_REGISTRATION_TOKENS (comma-separated), SLUICE_DATA_DIR, SLUICE_LOG_LEVEL.
 */
import { readFileSync, existsSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import Value from "typebox/value";
import { ConfigSchema, type Config } from "./schema.js";

export class ConfigError extends Error {
  constructor(readonly problems: string[], source: string) {
    super(`invalid configuration (${source}):\n` + problems.map((p) => `  - ${p}`).join("\n"));
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;
type Raw = Record<string, unknown>;

export function loadConfig(env: Env = process.env, overrides: Raw = {}): Config {
  const file = env.SLUICE_CONFIG ?? "./sluice.yaml";
  const mustExist = env.SLUICE_CONFIG !== undefined;
  let raw: Raw = {};
  if (existsSync(file)) {
    raw = readYaml(file);
  } else if (mustExist) {
    throw new ConfigError([`file not found: ${file}`], file);
  }
  applyEnv(raw, env);
  return buildConfig(deepMerge(raw, overrides), existsSync(file) ? file : "defaults + environment");
}

/** Validates an already-assembled object (used by loadConfig and by tests). */
export function buildConfig(raw: Raw, source = "inline"): Config {
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw)) as Raw;
  const problems = [...Value.Errors(ConfigSchema, withDefaults)]
    .filter((e) => e.keyword !== "boolean") // the "schema is false" twin of additionalProperties
    .flatMap(describeError);
  if (problems.length > 0) throw new ConfigError([...new Set(problems)], source);
  return deepFreeze(withDefaults as Config);
}

function readYaml(file: string): Raw {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError([`not valid YAML: ${(e as Error).message}`], file);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) throw new ConfigError(["top level must be a mapping"], file);
  return parsed as Raw;
}

/** One problem per wrong key: several unknown keys in one mapping are listed separately. */
function describeError(e: { instancePath: string; message: string; params: Record<string, unknown> }): string[] {
  const at = e.instancePath === "" ? "(top level)" : e.instancePath.slice(1).replaceAll("/", ".");
  const extra = e.params.additionalProperties as string[] | undefined;
  if (extra) return extra.map((k) => `unknown key ${at === "(top level)" ? k : `${at}.${k}`}`);
  return [`${at}: ${e.message}`];
}

function applyEnv(raw: Raw, env: Env): void {
  const set = (path: string[], value: unknown) => {
    let o = raw;
    for (const p of path.slice(0, -1)) {
      if (typeof o[p] !== "object" || o[p] === null) o[p] = {};
      o = o[p] as Raw;
    }
    o[path[path.length - 1]!] = value;
  };
  if (env.SLUICE_SERVER_NAME) set(["serverName"], env.SLUICE_SERVER_NAME);
  if (env.SLUICE_DATA_DIR) set(["dataDir"], env.SLUICE_DATA_DIR);
  if (env.SLUICE_DATABASE) set(["database", "path"], env.SLUICE_DATABASE);
  if (env.SLUICE_REGISTRATION) set(["registration", "mode"], env.SLUICE_REGISTRATION);
  if (env.SLUICE_REGISTRATION_TOKENS) set(["registration", "tokens"], env.SLUICE_REGISTRATION_TOKENS.split(",").map((t) => t.trim()).filter(Boolean));
  if (env.SLUICE_LOG_LEVEL) set(["log", "level"], env.SLUICE_LOG_LEVEL);
  if (env.SLUICE_LISTEN) {
    const m = /^(.*):(\d+)$/.exec(env.SLUICE_LISTEN);
    if (!m) throw new ConfigError([`SLUICE_LISTEN must be host:port, got "${env.SLUICE_LISTEN}"`], "environment");
    set(["listen", "host"], m[1]!.replace(/^\[(.*)\]$/, "$1"));
    set(["listen", "port"], Number(m[2]));
  }
}

function deepMerge(a: Raw, b: Raw): Raw {
  const out: Raw = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = isPlainObject(v) && isPlainObject(cur) ? deepMerge(cur, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(o: T): T {
  if (typeof o === "object" && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Resolved values that depend on other knobs. */
export function databasePath(c: Config): string {
  return c.database.path ?? `${c.dataDir.replace(/\/$/, "")}/sluice.db`;
}

export function publicBaseUrl(c: Config): string {
  if (c.publicBaseUrl) return c.publicBaseUrl.replace(/\/$/, "");
  const host = c.listen.host.includes(":") ? `[${c.listen.host}]` : c.listen.host;
  return `http://${host}:${c.listen.port}`;
}
