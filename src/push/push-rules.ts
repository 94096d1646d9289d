/**
 * PushRules: the use case behind /pushrules, and the rules the write path evaluates.
 * In:  a user id plus what the endpoints carry (kind, rule id, body, before/after).
 * Out: the effective ruleset (server defaults merged with the user's document, see
 *      rules-document.ts); changes are stored with PushStore.putRules, which records a
 *      "push_rules" change so that sync can send the new `m.push_rules` account data.
 * Cache: effective rulesets are kept in memory (LRU), so evaluating an event for N room
 *      members reads each member's rules at most once. Every "push_rules" change drops the
 *      user's entry: app.ts forwards retired changes to onChange(), whoever wrote them.
 * Concurrency: changes for one user are serialised (read-modify-write under a per-user
 *      lock); a read that raced a change is not cached (generation check).
 * Throws: NotFoundError, InvalidParamError, BadJsonError from validation and the document.
 */
import type { UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import type { StreamChange } from "../streams/position.js";
import { KeyedMutex } from "../util/keyed-mutex.js";
import { ReadThroughCache } from "../util/read-through-cache.js";
import type { PushAction, PushRule, RuleKind, Ruleset } from "./push-rule.js";
import { changeRule, deleteRule, findRule, mergeRuleset, parseDocument, putRule, type RulesDocument } from "./rules-document.js";
import { NotFoundError } from "../errors/matrix-error.js";
import { validateActions, validateEnabledBody, validateNewRule, validateNewRuleId } from "./rule-validation.js";

export const PUSH_RULES_CHANGE = "push_rules";
const DEFAULT_CACHE_SIZE = 20_000;

export class PushRules {
  private readonly cache: ReadThroughCache<string, Ruleset>;
  private readonly locks = new KeyedMutex();

  constructor(private readonly storage: Storage, opts: { cacheSize?: number } = {}) {
    this.cache = new ReadThroughCache(opts.cacheSize ?? DEFAULT_CACHE_SIZE, async (userId) => mergeRuleset(userId as UserId, parseDocument(await storage.push.rules(userId as UserId))));
  }

  /**
   * The user's effective ruleset in evaluation order. Shared with the cache: callers must
   * not mutate it (the API methods below hand out copies).
   */
  rulesetFor(userId: UserId): Promise<Ruleset> {
    return this.cache.get(userId);
  }

  /** The cached ruleset, without waiting (the write path's fast path for large rooms). */
  cached(userId: string): Ruleset | undefined {
    return this.cache.peek(userId);
  }

  /** GET /pushrules/ and GET /pushrules/global/ (the latter is `.global`). */
  async all(userId: UserId): Promise<{ global: Ruleset }> {
    return { global: structuredClone(await this.rulesetFor(userId)) };
  }

  /** GET /pushrules/global/{kind}/{ruleId}; 404 if there is no such rule. */
  async get(userId: UserId, kind: RuleKind, ruleId: string): Promise<PushRule> {
    const rule = findRule(await this.rulesetFor(userId), kind, ruleId);
    if (!rule) throw new NotFoundError("The push rule was not found.");
    return structuredClone(rule);
  }

  /** PUT /pushrules/global/{kind}/{ruleId}?before=&after= */
  async put(userId: UserId, kind: RuleKind, ruleId: string | undefined, body: Record<string, unknown>, position: { before?: string; after?: string }): Promise<void> {
    const id = validateNewRuleId(ruleId);
    const rule = validateNewRule(kind, body);
    await this.update(userId, (doc) => putRule(doc, kind, id, rule, position));
  }

  /** DELETE /pushrules/global/{kind}/{ruleId} */
  async delete(userId: UserId, kind: RuleKind, ruleId: string): Promise<void> {
    await this.update(userId, (doc) => deleteRule(doc, kind, ruleId));
  }

  async isEnabled(userId: UserId, kind: RuleKind, ruleId: string): Promise<{ enabled: boolean }> {
    return { enabled: (await this.get(userId, kind, ruleId)).enabled };
  }

  /** PUT …/enabled with `{ enabled: boolean }`. */
  async setEnabled(userId: UserId, kind: RuleKind, ruleId: string, body: Record<string, unknown>): Promise<void> {
    const enabled = validateEnabledBody(body);
    await this.update(userId, (doc) => changeRule(doc, userId, kind, ruleId, { enabled }));
  }

  async actions(userId: UserId, kind: RuleKind, ruleId: string): Promise<{ actions: PushAction[] }> {
    return { actions: (await this.get(userId, kind, ruleId)).actions };
  }

  /** PUT …/actions with `{ actions: [...] }`. */
  async setActions(userId: UserId, kind: RuleKind, ruleId: string, body: Record<string, unknown>): Promise<void> {
    const actions = validateActions(body.actions);
    await this.update(userId, (doc) => changeRule(doc, userId, kind, ruleId, { actions }));
  }

  /** Listener for retired stream changes: drops the cached rules of users whose rules changed. */
  onChange(change: StreamChange): void {
    if (change.kind !== PUSH_RULES_CHANGE) return;
    for (const userId of change.userIds ?? []) this.invalidate(userId);
  }

  invalidate(userId: string): void {
    this.cache.invalidate(userId);
  }

  private async update(userId: UserId, change: (doc: RulesDocument) => RulesDocument): Promise<void> {
    await this.locks.run(userId, async () => {
      const next = change(parseDocument(await this.storage.push.rules(userId)));
      try {
        await this.storage.push.putRules(userId, next as unknown as Record<string, unknown>);
      } finally {
        this.invalidate(userId);
      }
    });
  }
}
