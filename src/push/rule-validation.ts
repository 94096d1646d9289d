/**
 * Validation of what clients send to the push rule endpoints (pushrules.yaml; sytest's
 * "Trying to add push rule with … fails with 400" list is the checklist).
 * In:  the path's rule id and the JSON body of PUT /pushrules/global/{kind}/{ruleId},
 *      /enabled and /actions.
 * Out: a NewRule / action list ready to store. The historical `dont_notify` and `coalesce`
 *      are accepted and kept as sent (the evaluator ignores them, as the spec requires):
 *      matrix-js-sdk mutes a room with ["dont_notify"] and recognises its own mute rule by
 *      that action when unmuting.
 * Throws: InvalidParamError (M_INVALID_PARAM) for the rule id, BadJsonError (M_BAD_JSON)
 *      naming the field for a malformed body. Conditions of unknown kinds are accepted and
 *      stored (they never match), known kinds must carry their parameters.
 */
import { BadJsonError, InvalidParamError } from "../errors/matrix-error.js";
import { isSimpleValue, parseMemberCount } from "./evaluator.js";
import type { NewRule } from "./rules-document.js";
import { isServerDefaultRuleId, type PushAction, type PushCondition, type RuleKind } from "./push-rule.js";

const MAX_RULE_ID_LENGTH = 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A rule id a client may create: not empty, not a server-default id, no slash or backslash. */
export function validateNewRuleId(ruleId: string | undefined): string {
  if (!ruleId) throw new InvalidParamError("A rule id is required");
  if (isServerDefaultRuleId(ruleId)) throw new InvalidParamError("Rule ids starting with '.' are reserved for server-default rules");
  if (ruleId.includes("/") || ruleId.includes("\\")) throw new InvalidParamError("Rule ids may not contain '/' or '\\'");
  if (ruleId.length > MAX_RULE_ID_LENGTH) throw new InvalidParamError("Rule id too long");
  return ruleId;
}

const NAMED_ACTIONS: ReadonlySet<unknown> = new Set(["notify", "dont_notify", "coalesce"]);

/** An actions array: "notify", the historical "dont_notify"/"coalesce", or `{ set_tweak: string, value? }`. */
export function validateActions(actions: unknown, field = "actions"): PushAction[] {
  if (!Array.isArray(actions)) throw new BadJsonError(`'${field}' must be an array`);
  actions.forEach((a, i) => {
    if (!NAMED_ACTIONS.has(a) && !(isObject(a) && typeof a.set_tweak === "string")) {
      throw new BadJsonError(`${field}[${i}]: unrecognised action ${JSON.stringify(a)}`);
    }
  });
  return actions as PushAction[];
}

function requireString(c: Record<string, unknown>, name: string, at: string): void {
  if (typeof c[name] !== "string") throw new BadJsonError(`${at}.${name} must be a string`);
}

function validateCondition(c: unknown, at: string): PushCondition {
  if (!isObject(c)) throw new BadJsonError(`${at} must be an object`);
  if (typeof c.kind !== "string") throw new BadJsonError(`${at}.kind must be a string`);
  switch (c.kind) {
    case "event_match":
      requireString(c, "key", at);
      requireString(c, "pattern", at);
      break;
    case "event_property_is":
    case "event_property_contains":
      requireString(c, "key", at);
      if (!Object.hasOwn(c, "value") || !isSimpleValue(c.value)) {
        throw new BadJsonError(`${at}.value must be a string, an integer, a boolean or null`);
      }
      break;
    case "room_member_count":
      if (typeof c.is !== "string" || parseMemberCount(c.is) === null) {
        throw new BadJsonError(`${at}.is must be a count optionally prefixed by ==, <, >, <= or >=`);
      }
      break;
    case "sender_notification_permission":
      requireString(c, "key", at);
      break;
    default:
      break; // contains_display_name has no parameters; unknown kinds are kept and never match
  }
  return c as PushCondition;
}

/** The body of PUT /pushrules/global/{kind}/{ruleId}, checked for that kind. */
export function validateNewRule(kind: RuleKind, body: Record<string, unknown>): NewRule {
  if (!Object.hasOwn(body, "actions")) throw new BadJsonError("'actions' is required");
  const rule: NewRule = { actions: validateActions(body.actions) };
  if (kind === "override" || kind === "underride") {
    // Spec: conditions are optional; a rule without conditions matches every event.
    if (body.conditions !== undefined) {
      if (!Array.isArray(body.conditions)) throw new BadJsonError("'conditions' must be an array");
      rule.conditions = body.conditions.map((c, i) => validateCondition(c, `conditions[${i}]`));
    } else {
      rule.conditions = [];
    }
  }
  if (kind === "content") {
    if (typeof body.pattern !== "string") throw new BadJsonError("'pattern' is required for content rules");
    rule.pattern = body.pattern;
  }
  return rule;
}

/** The body of PUT …/enabled. */
export function validateEnabledBody(body: Record<string, unknown>): boolean {
  if (typeof body.enabled !== "boolean") throw new BadJsonError("'enabled' must be a boolean");
  return body.enabled;
}
