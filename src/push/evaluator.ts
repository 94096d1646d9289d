/**
 * Push rule evaluation (client-server API, "Push Rules" → "Conditions", "Actions").
 * In:  a user's whole ruleset (defaults merged in, evaluation order), the event as JSON
 *      (the PDU: type, content, sender, room_id, state_key), and what the conditions need
 *      to know about the recipient and the room (PushContext).
 * Out: the first enabled rule that matches decides: its actions (the historical
 *      `dont_notify` and `coalesce` stripped, as the spec requires), `notify` when they hold
 *      "notify", `highlight` when they set the highlight tweak to true or without a value.
 *      No rule matching means no notification.
 * Pure: no I/O; compiled globs and parsed key paths are memoised. Never throws on any rule
 * or event (a malformed condition simply does not match).
 */
import { parseFieldPath } from "../events/client-event.js";
import { containsWord, globMatches } from "./glob.js";
import { RULE_KINDS, type PushAction, type PushCondition, type PushRule, type RuleKind, type Ruleset } from "./push-rule.js";

/** What the conditions need besides the event. */
export interface PushContext {
  /** The recipient. */
  userId: string;
  /** The recipient's display name in this room (their member event), if any. */
  displayName: string | null;
  /** Joined members of the room (room_member_count). */
  memberCount: number;
  /** The sender's power level in the room. */
  senderPowerLevel: number;
  /** The room's power levels `notifications` map (sender_notification_permission). */
  notificationLevels: Readonly<Record<string, number>>;
}

export interface PushOutcome {
  notify: boolean;
  highlight: boolean;
  actions: PushAction[];
  /** The rule that decided, or null when none matched. */
  ruleId: string | null;
  kind: RuleKind | null;
}

/** The event as the conditions read it: any JSON object (the PDU). */
export type PushEvent = Readonly<Record<string, unknown>>;

const NO_MATCH: PushOutcome = Object.freeze({ notify: false, highlight: false, actions: [], ruleId: null, kind: null });

/** Spec default for a `notifications` key absent from the power levels (`room`: 50). */
export const DEFAULT_NOTIFICATION_LEVEL = 50;

export function evaluatePushRules(ruleset: Ruleset, event: PushEvent, ctx: PushContext): PushOutcome {
  for (const kind of RULE_KINDS) {
    for (const rule of ruleset[kind]) {
      if (!rule.enabled || !ruleMatches(kind, rule, event, ctx)) continue;
      const actions = rule.actions.filter((a) => a !== "dont_notify" && a !== "coalesce");
      return { notify: actions.includes("notify"), highlight: highlightOf(actions), actions, ruleId: rule.rule_id, kind };
    }
  }
  return NO_MATCH;
}

/** Whether the actions set the highlight tweak (no value means true). */
export function highlightOf(actions: readonly PushAction[]): boolean {
  return actions.some((a) => typeof a === "object" && a !== null && a.set_tweak === "highlight" && (a.value === undefined || a.value === true));
}

/** Does one rule match? room/sender/content rules carry their condition in rule_id or pattern. */
export function ruleMatches(kind: RuleKind, rule: PushRule, event: PushEvent, ctx: PushContext): boolean {
  switch (kind) {
    case "room":
      return event.room_id === rule.rule_id;
    case "sender":
      return event.sender === rule.rule_id;
    case "content": {
      const body = valueAt(event, "content.body");
      return typeof rule.pattern === "string" && typeof body === "string" && globMatches(rule.pattern, body, "word");
    }
    case "override":
    case "underride":
      return (rule.conditions ?? []).every((c) => conditionMatches(c, event, ctx));
  }
}

export function conditionMatches(c: PushCondition, event: PushEvent, ctx: PushContext): boolean {
  switch (c.kind) {
    case "event_match": {
      if (typeof c.key !== "string" || typeof c.pattern !== "string") return false;
      const value = valueAt(event, c.key);
      // Only string values match, even for the pattern "*" (spec).
      return typeof value === "string" && globMatches(c.pattern, value, c.key === "content.body" ? "word" : "whole");
    }
    case "event_property_is": {
      if (typeof c.key !== "string" || !isSimpleValue(c.value)) return false;
      const value = valueAt(event, c.key);
      return isSimpleValue(value) && value === c.value;
    }
    case "event_property_contains": {
      if (typeof c.key !== "string" || !isSimpleValue(c.value)) return false;
      const value = valueAt(event, c.key);
      return Array.isArray(value) && value.some((v) => isSimpleValue(v) && v === c.value);
    }
    case "contains_display_name": {
      const body = valueAt(event, "content.body");
      // An empty display name would match everything: it never matches.
      return typeof body === "string" && !!ctx.displayName && containsWord(body, ctx.displayName);
    }
    case "room_member_count":
      return typeof c.is === "string" && memberCountMatches(c.is, ctx.memberCount);
    case "sender_notification_permission": {
      if (typeof c.key !== "string") return false;
      const required = Object.hasOwn(ctx.notificationLevels, c.key) ? ctx.notificationLevels[c.key]! : DEFAULT_NOTIFICATION_LEVEL;
      return ctx.senderPowerLevel >= required;
    }
    default:
      return false; // unrecognised conditions never match
  }
}

const MEMBER_COUNT = /^(==|<=|>=|<|>)?([0-9]+)$/;

/** Parses a room_member_count `is` ("2", "==2", "<10", ">=3", …); null when malformed. */
export function parseMemberCount(is: string): { op: "==" | "<" | ">" | "<=" | ">="; n: number } | null {
  const m = MEMBER_COUNT.exec(is);
  if (!m) return null;
  const n = Number(m[2]);
  if (!Number.isSafeInteger(n)) return null;
  return { op: (m[1] ?? "==") as "==" | "<" | ">" | "<=" | ">=", n };
}

function memberCountMatches(is: string, count: number): boolean {
  const parsed = parseMemberCount(is);
  if (!parsed) return false;
  const { op, n } = parsed;
  switch (op) {
    case "==":
      return count === n;
    case "<":
      return count < n;
    case ">":
      return count > n;
    case "<=":
      return count <= n;
    case ">=":
      return count >= n;
  }
}

/** Non-compound canonical JSON values: strings, integers in the canonical range, booleans, null. */
export function isSimpleValue(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isSafeInteger(v));
}

const MAX_PATHS = 1024;
const paths = new Map<string, string[]>();

/** The value at a dot-separated property path (`\.` and `\\` escape), or undefined. */
export function valueAt(event: PushEvent, key: string): unknown {
  let path = paths.get(key);
  if (!path) {
    path = parseFieldPath(key);
    if (paths.size >= MAX_PATHS) paths.clear();
    paths.set(key, path);
  }
  let value: unknown = event;
  for (const part of path) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
