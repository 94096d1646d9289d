/**
 * Glob matching for push rules (appendices, "Glob-style matching": `*` is zero or more
 * characters, `?` exactly one), case-insensitive, in two modes:
 *   whole — the pattern must match the entire value (event_match on any key but content.body);
 *   word  — the pattern must match a substring that starts and ends at a word boundary: the
 *           start or end of the value, or a character outside [A-Za-z0-9_] (content.body,
 *           content rules, contains_display_name).
 * No regular expressions: patterns come from users and bodies from anyone, and a backtracking
 * engine takes polynomial time on globs like `*a*a*a*b`. The pattern is split at `*` into
 * chunks; each chunk is placed at its earliest possible position after the previous one
 * (earliest is never worse for what follows), so a match costs O(value × pattern) at most.
 * Case-insensitive = both sides lower-cased, compared by code point. Pure; never throws.
 */

export type GlobMode = "whole" | "word";

/** One pattern position: a code point, or ANY for `?`. */
const ANY = Symbol("any");
type Unit = string | typeof ANY;
type Chunk = readonly Unit[];

/** A glob split at its `*`s: `chunks.length - 1` stars sit between the chunks. */
interface Compiled {
  chunks: readonly Chunk[];
  /** The lower-cased pattern when it has no wildcard at all (whole mode compares strings). */
  plain: string | null;
}

const MAX_CACHED = 4096;
const compiled = new Map<string, Compiled>();

function compile(pattern: string, literal: boolean): Compiled {
  const key = (literal ? "L" : "G") + pattern;
  const hit = compiled.get(key);
  if (hit) return hit;
  const chunks: Unit[][] = [[]];
  for (const ch of pattern.toLowerCase()) {
    if (!literal && ch === "*") chunks.push([]);
    else chunks[chunks.length - 1]!.push(!literal && ch === "?" ? ANY : ch);
  }
  const plain = chunks.length === 1 && !chunks[0]!.includes(ANY) ? chunks[0]!.join("") : null;
  const result: Compiled = { chunks, plain };
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(key, result);
  return result;
}

/**
 * Lower-cased values and their code points, memoised: one event is matched against the
 * rules of every member of its room, so the same few values come back thousands of times.
 */
const MAX_VALUES = 256;
const lowered = new Map<string, string>();
const exploded = new Map<string, readonly string[]>();
function lowerOf(value: string): string {
  let l = lowered.get(value);
  if (l === undefined) {
    if (lowered.size >= MAX_VALUES) lowered.clear();
    l = value.toLowerCase();
    lowered.set(value, l);
  }
  return l;
}
function charsOf(value: string): readonly string[] {
  let c = exploded.get(value);
  if (c === undefined) {
    if (exploded.size >= MAX_VALUES) exploded.clear();
    c = Array.from(lowerOf(value));
    exploded.set(value, c);
  }
  return c;
}

const WORD_CHAR = /^[a-z0-9_]$/;
const isWord = (c: string | undefined): boolean => c !== undefined && WORD_CHAR.test(c);
const startsWord = (v: readonly string[], i: number): boolean => i === 0 || !isWord(v[i - 1]);
const endsWord = (v: readonly string[], j: number): boolean => j === v.length || !isWord(v[j]);

function chunkAt(v: readonly string[], chunk: Chunk, at: number): boolean {
  if (at < 0 || at + chunk.length > v.length) return false;
  for (let k = 0; k < chunk.length; k++) {
    const u = chunk[k]!;
    if (u !== ANY && u !== v[at + k]) return false;
  }
  return true;
}

/** Earliest position >= from where `chunk` matches and `ok(position)` holds, or -1. */
function findChunk(v: readonly string[], chunk: Chunk, from: number, ok: (at: number) => boolean = () => true): number {
  for (let at = from; at + chunk.length <= v.length; at++) {
    if (chunkAt(v, chunk, at) && ok(at)) return at;
  }
  return -1;
}

function matches(p: Compiled, v: readonly string[], mode: GlobMode): boolean {
  const { chunks } = p;
  const first = chunks[0]!;
  const last = chunks[chunks.length - 1]!;
  const wordy = mode === "word";
  if (chunks.length === 1) {
    // No star: a fixed-length match.
    if (!wordy) return first.length === v.length && chunkAt(v, first, 0);
    return findChunk(v, first, 0, (at) => startsWord(v, at) && endsWord(v, at + first.length)) >= 0;
  }
  // First chunk: at the start (whole) or at the earliest word start (word).
  const start = wordy ? findChunk(v, first, 0, (at) => startsWord(v, at)) : chunkAt(v, first, 0) ? 0 : -1;
  if (start < 0) return false;
  let pos = start + first.length;
  // Middle chunks: earliest placement.
  for (let c = 1; c < chunks.length - 1; c++) {
    const chunk = chunks[c]!;
    const at = findChunk(v, chunk, pos);
    if (at < 0) return false;
    pos = at + chunk.length;
  }
  // Last chunk: at the very end (whole) or ending at a word end (word).
  if (!wordy) return v.length - last.length >= pos && chunkAt(v, last, v.length - last.length);
  return findChunk(v, last, pos, (at) => endsWord(v, at + last.length)) >= 0;
}

/** Does `value` match the glob `pattern` in `mode`? */
export function globMatches(pattern: string, value: string, mode: GlobMode): boolean {
  const p = compile(pattern, false);
  if (mode === "whole" && p.plain !== null) return lowerOf(value) === p.plain;
  return matches(p, charsOf(value), mode);
}

/** Does `value` contain `text` (taken literally, no wildcards) between word boundaries? */
export function containsWord(value: string, text: string): boolean {
  if (text.length === 0) return false;
  return matches(compile(text, true), charsOf(value), "word");
}
