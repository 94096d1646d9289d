/**
 * Push rules (pushrules.yaml): GET /pushrules/ and /pushrules/global/, and for one rule
 * GET|PUT|DELETE /pushrules/global/{kind}/{ruleId}, GET|PUT …/enabled and …/actions.
 * Only the `global` scope exists. Paths below /pushrules that name no rule (another scope,
 * a missing rule id, an unknown attribute) are 400 M_INVALID_PARAM, as sytest expects.
 * matrix-js-sdk fetches /pushrules/ before its first sync and retries until it answers.
 */
import Type from "typebox";
import { InvalidParamError } from "../../errors/matrix-error.js";
import type { ClientRouter } from "../../http/client-router.js";
import type { PushRules } from "../../push/push-rules.js";
import { parseRuleKind } from "../../push/rules-document.js";

const AnyObject = Type.Object({});

/** `before`/`after`: an absent or empty query parameter means "not given". */
function positionOf(query: Record<string, string | undefined>): { before?: string; after?: string } {
  return {
    ...(query.before ? { before: query.before } : {}),
    ...(query.after ? { after: query.after } : {}),
  };
}

export function registerPushRuleRoutes(router: ClientRouter, deps: { pushRules: PushRules }): void {
  const rules = deps.pushRules;

  // Trailing slashes are ignored by the server, so these also answer /pushrules/ and /pushrules/global/.
  router.route({ method: "GET", path: "/pushrules", auth: "required", handler: ({ requester }) => rules.all(requester.userId) });
  router.route({
    method: "GET",
    path: "/pushrules/global",
    auth: "required",
    handler: async ({ requester }) => (await rules.all(requester.userId)).global,
  });
  // GET /pushrules/global/{kind}/ lists one kind (as Synapse answers it).
  router.route({
    method: "GET",
    path: "/pushrules/global/:kind",
    auth: "required",
    handler: async ({ requester, params }) => {
      const kind = parseRuleKind(params.kind);
      return (await rules.all(requester.userId)).global[kind];
    },
  });

  const rulePath = "/pushrules/global/:kind/:ruleId";
  router.route({
    method: "GET",
    path: rulePath,
    auth: "required",
    handler: ({ requester, params }) => rules.get(requester.userId, parseRuleKind(params.kind), params.ruleId!),
  });
  router.route({
    method: "PUT",
    path: rulePath,
    auth: "required",
    body: AnyObject,
    handler: async ({ requester, params, query, body }) => {
      await rules.put(requester.userId, parseRuleKind(params.kind), params.ruleId, body as Record<string, unknown>, positionOf(query));
      return {};
    },
  });
  router.route({
    method: "DELETE",
    path: rulePath,
    auth: "required",
    handler: async ({ requester, params }) => {
      await rules.delete(requester.userId, parseRuleKind(params.kind), params.ruleId!);
      return {};
    },
  });

  router.route({
    method: "GET",
    path: `${rulePath}/enabled`,
    auth: "required",
    handler: ({ requester, params }) => rules.isEnabled(requester.userId, parseRuleKind(params.kind), params.ruleId!),
  });
  router.route({
    method: "PUT",
    path: `${rulePath}/enabled`,
    auth: "required",
    body: AnyObject,
    handler: async ({ requester, params, body }) => {
      await rules.setEnabled(requester.userId, parseRuleKind(params.kind), params.ruleId!, body as Record<string, unknown>);
      return {};
    },
  });
  router.route({
    method: "GET",
    path: `${rulePath}/actions`,
    auth: "required",
    handler: ({ requester, params }) => rules.actions(requester.userId, parseRuleKind(params.kind), params.ruleId!),
  });
  router.route({
    method: "PUT",
    path: `${rulePath}/actions`,
    auth: "required",
    body: AnyObject,
    handler: async ({ requester, params, body }) => {
      await rules.setActions(requester.userId, parseRuleKind(params.kind), params.ruleId!, body as Record<string, unknown>);
      return {};
    },
  });

  // Everything else below /pushrules: another scope, no rule id, an unknown attribute.
  const refuse = async (): Promise<never> => {
    throw new InvalidParamError("Unrecognised push rules path: only /pushrules/global/{kind}/{ruleId}[/enabled|/actions] exist");
  };
  for (const method of ["GET", "PUT", "DELETE"] as const) {
    router.route({ method, path: "/pushrules/*", auth: "required", handler: refuse });
  }
  for (const method of ["PUT", "DELETE"] as const) {
    router.route({ method, path: "/pushrules/global/:kind", auth: "required", handler: refuse });
  }
}
