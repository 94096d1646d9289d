/**
 * Per-room-version rules in one table. Everything that differs between room versions is a
 * field here, so auth rules, redaction and event building read the table instead of
 * comparing version strings. Sluice creates rooms in versions 10 (default, as Synapse) and 11.
 */

export interface RoomVersion {
  readonly id: string;
  readonly stable: boolean;
  /** `redacts` is a top-level key (≤ v10) or `content.redacts` (v11+). */
  readonly redactsInContent: boolean;
  /** `m.room.create` carries `content.creator` (≤ v10) or relies on `sender` (v11+). */
  readonly createHasCreator: boolean;
  /** Redaction keeps `origin`, `membership` and `prev_state` top-level keys (≤ v10). */
  readonly redactionKeepsLegacyTopLevelKeys: boolean;
  /** v11 redaction keeps all of `m.room.create` content and `invite` in power levels. */
  readonly redactionKeepsAllCreateContent: boolean;
  readonly redactionKeepsPowerLevelsInvite: boolean;
  /** v9+: `join_authorised_via_users_server` survives redaction of member events. */
  readonly redactionKeepsJoinAuthorisedVia: boolean;
  /** v11+: member redaction keeps `third_party_invite.signed` (MSC3821). */
  readonly redactionKeepsThirdPartyInviteSigned: boolean;
  /** Join rules `knock` (v7+) and `restricted` (v8+), `knock_restricted` (v10+). */
  readonly knock: boolean;
  readonly restricted: boolean;
  readonly knockRestricted: boolean;
  /** v10+: power level values must be integers, not strings. */
  readonly integerPowerLevels: boolean;
  /** v12: the room id is derived from the create event's hash (not supported yet: always false). */
  readonly roomIdFromCreateEvent: boolean;
}

const V10: RoomVersion = {
  id: "10",
  stable: true,
  redactsInContent: false,
  createHasCreator: true,
  redactionKeepsLegacyTopLevelKeys: true,
  redactionKeepsAllCreateContent: false,
  redactionKeepsPowerLevelsInvite: false,
  redactionKeepsJoinAuthorisedVia: true,
  redactionKeepsThirdPartyInviteSigned: false,
  knock: true,
  restricted: true,
  knockRestricted: true,
  integerPowerLevels: true,
  roomIdFromCreateEvent: false,
};

const V11: RoomVersion = {
  ...V10,
  id: "11",
  redactsInContent: true,
  createHasCreator: false,
  redactionKeepsLegacyTopLevelKeys: false,
  redactionKeepsAllCreateContent: true,
  redactionKeepsPowerLevelsInvite: true,
  redactionKeepsThirdPartyInviteSigned: true,
};

export const ROOM_VERSIONS: ReadonlyMap<string, RoomVersion> = new Map([V10, V11].map((v) => [v.id, v]));

export const DEFAULT_ROOM_VERSION = "10";

/** The version's rules, or undefined for a version this server does not know. */
export function roomVersion(id: string): RoomVersion | undefined {
  return ROOM_VERSIONS.get(id);
}
