/**
 * Push rule wire types (client-server API, "Push Rules"; definitions/push_rule.yaml,
 * push_ruleset.yaml, push_condition.yaml). These are exactly what clients PUT and GET and
 * what `m.push_rules` account data carries, so names stay snake_case.
 * Kinds are listed in the order the spec evaluates them: override, content, room, sender,
 * underride. Pure types and tiny helpers only.
 */

export const RULE_KINDS = ["override", "content", "room", "sender", "underride"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export function isRuleKind(s: string): s is RuleKind {
  return (RULE_KINDS as readonly string[]).includes(s);
}

/**
 * One condition. Known kinds: event_match, event_property_is, event_property_contains,
 * contains_display_name, room_member_count, sender_notification_permission. Conditions of
 * any other kind are kept as given and never match (spec: "Unrecognised conditions MUST
 * NOT match any events").
 */
export interface PushCondition {
  kind: string;
  key?: string;
  pattern?: string;
  is?: string;
  value?: string | number | boolean | null;
  [other: string]: unknown;
}

/** "notify", or a tweak such as `{ set_tweak: "highlight" }` / `{ set_tweak: "sound", value: "default" }`. */
export type PushAction = string | { set_tweak: string; value?: unknown; [other: string]: unknown };

/** A rule as the API shows it. `conditions` only on override/underride, `pattern` only on content. */
export interface PushRule {
  rule_id: string;
  default: boolean;
  enabled: boolean;
  actions: PushAction[];
  conditions?: PushCondition[];
  pattern?: string;
}

/** The `global` ruleset: every kind, each list most important first. */
export type Ruleset = Record<RuleKind, PushRule[]>;

/** An empty ruleset (every kind present: clients index each list without checking). */
export function emptyRuleset(): Ruleset {
  return { override: [], content: [], room: [], sender: [], underride: [] };
}

/** Server-default rule ids start with a dot (spec: "Predefined Rules"). */
export function isServerDefaultRuleId(ruleId: string): boolean {
  return ruleId.startsWith(".");
}
