/**
 * The redaction algorithm (client-server API, "Redactions"; room versions 10 and 11,
 * "Redactions": fragments v9-redactions and v11-redactions).
 * In:  a PDU (or any event-shaped object, e.g. the older formats of the appendix test vectors).
 * Out: a new object holding only the protected top-level keys and, per event type, the
 *      protected content keys; `content` is always present (possibly `{}`).
 * Invariants: pure; never mutates or shares structure with its input. `unsigned` is not a
 * protected key, so it is stripped: callers that serve a redacted event add `redacted_because`.
 */
import type { Pdu } from "./pdu.js";
import type { RoomVersion } from "./room-versions.js";

/** Top-level keys every version from 1 to 11 protects (v11 list). */
const TOP_LEVEL_KEYS = [
  "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
  "depth", "prev_events", "auth_events", "origin_server_ts",
] as const;
/** Protected up to v10 only; v11 lets them go (room version 11, "Redactions"). */
const LEGACY_TOP_LEVEL_KEYS = ["origin", "membership", "prev_state"] as const;

function topLevelKeys(version: RoomVersion): readonly string[] {
  return version.redactionKeepsLegacyTopLevelKeys ? [...TOP_LEVEL_KEYS, ...LEGACY_TOP_LEVEL_KEYS] : TOP_LEVEL_KEYS;
}

const POWER_LEVELS_KEYS = ["ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Copies `keys` that are present in `from`; values are deep-copied. */
function pick(from: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (Object.hasOwn(from, k) && from[k] !== undefined) out[k] = structuredClone(from[k]);
  }
  return out;
}

/** The content keys a redaction keeps for one event type in one room version. */
function redactContent(type: unknown, content: Record<string, unknown>, version: RoomVersion): Record<string, unknown> {
  switch (type) {
    case "m.room.member": {
      const keys = version.redactionKeepsJoinAuthorisedVia ? ["membership", "join_authorised_via_users_server"] : ["membership"];
      const out = pick(content, keys);
      // v11: `third_party_invite` survives, holding only its `signed` key (when it has one).
      const invite = content.third_party_invite;
      if (version.redactionKeepsThirdPartyInviteSigned && isObject(invite) && Object.hasOwn(invite, "signed")) {
        out.third_party_invite = { signed: structuredClone(invite.signed) };
      }
      return out;
    }
    case "m.room.create":
      return version.redactionKeepsAllCreateContent ? structuredClone(content) : pick(content, ["creator"]);
    case "m.room.join_rules":
      // `allow` arrived with restricted joins (v8), so the same flag says whether it is protected.
      return pick(content, version.restricted ? ["join_rule", "allow"] : ["join_rule"]);
    case "m.room.power_levels":
      return pick(content, version.redactionKeepsPowerLevelsInvite ? [...POWER_LEVELS_KEYS, "invite"] : POWER_LEVELS_KEYS);
    case "m.room.history_visibility":
      return pick(content, ["history_visibility"]);
    case "m.room.redaction":
      // v11 moved `redacts` into content, and protects it there; before, the top-level key
      // was not protected at all (so a redacted redaction forgets its target).
      return version.redactsInContent ? pick(content, ["redacts"]) : {};
    default:
      return {};
  }
}

/** The redacted form of `pdu` under `version`'s rules. */
export function redact<T extends Record<string, unknown> = Pdu>(pdu: T, version: RoomVersion): T {
  const out = pick(pdu, topLevelKeys(version));
  const content = isObject(pdu.content) ? pdu.content : {};
  out.content = redactContent(pdu.type, content, version);
  return out as T;
}
