/**
 * Glob matching for push rules (appendices, "Glob-style matching": `*` is zero or more
 * characters, `?` exactly one), case-insensitive, in two modes:
 *   whole — the pattern must match the entire value (event_match on any key but content.body);
 *   word  — the pattern must match a substring that starts and ends at a word boundary: the
 *           start or end of the value, or a character outside [A-Za-z0-9_] (content.body,
 *           content rules, contains_display_name).
 * Runs of wildcards collapse (`?*?*` ≡ `.{2,}`) so no pattern backtracks worse than a
 * simple one. Compiled expressions are memoised in a bounded table.
 * Pure apart from that table; never throws on any input.
 */

export type GlobMode = "whole" | "word";

const MAX_CACHED = 4096;
const compiled = new Map<string, RegExp>();

/** Characters with a meaning in a `u`-mode regular expression. */
function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}

/** The regular expression body for a glob: literal runs escaped, wildcard runs collapsed. */
function globBody(glob: string, literal: boolean): string {
  if (literal) return escapeRegex(glob);
  let out = "";
  for (const [, text, wild] of glob.matchAll(/([^*?]*)([*?]*)/g)) {
    out += escapeRegex(text ?? "");
    if (!wild) continue;
    const exact = [...wild].filter((c) => c === "?").length;
    out += wild.includes("*") ? `[\\s\\S]{${exact},}` : `[\\s\\S]{${exact}}`;
  }
  return out;
}

function regexFor(glob: string, mode: GlobMode, literal: boolean): RegExp {
  const key = `${mode}${literal ? "L" : "G"}${glob}`;
  let re = compiled.get(key);
  if (re) return re;
  const body = globBody(glob, literal);
  const source = mode === "whole" ? `^(?:${body})$` : `(?<![A-Za-z0-9_])(?:${body})(?![A-Za-z0-9_])`;
  re = new RegExp(source, "iu");
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(key, re);
  return re;
}

/** Does `value` match the glob `pattern` in `mode`? */
export function globMatches(pattern: string, value: string, mode: GlobMode): boolean {
  return regexFor(pattern, mode, false).test(value);
}

/** Does `value` contain `text` (taken literally, no wildcards) between word boundaries? */
export function containsWord(value: string, text: string): boolean {
  if (text.length === 0) return false;
  return regexFor(text, "word", true).test(value);
}
