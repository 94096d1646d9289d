/**
 * The answer of every authorization check, and the small readers the rule files share.
 * A denial carries a sentence for logs and for the `ForbiddenError` a caller may raise;
 * the rule numbers live in the comments of the code that produces it.
 */
import type { StateMap, StoredPdu } from "../../events/pdu.js";
import { stateKeyOf } from "../../events/pdu.js";

export type AuthResult = { allowed: true } | { allowed: false; reason: string };

export const ALLOW: AuthResult = Object.freeze({ allowed: true });

export function deny(reason: string): AuthResult {
  return { allowed: false, reason };
}

/** The state event at (type, stateKey), if the state holds one. */
export function stateEvent(state: StateMap, type: string, stateKey = ""): StoredPdu | undefined {
  return state.get(stateKeyOf(type, stateKey));
}

/** The server name of a user or room id: everything after the first colon ("" if none). */
export function domainOf(id: string): string {
  const i = id.indexOf(":");
  return i < 0 ? "" : id.slice(i + 1);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
