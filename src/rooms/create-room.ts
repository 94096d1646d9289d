/**
 * POST /createRoom as a use case: the sequence of events the spec's "Creation" section
 * lists, each through the EventWriter (so each is authorised like any other event):
 * create → creator's join → power levels → canonical alias → preset join rules, history
 * visibility, guest access → initial_state → name → topic → invites.
 */
import { BadJsonError, InvalidParamError, RoomInUseError, UnsupportedRoomVersionError } from "../errors/matrix-error.js";
import { newRoomId, parseUserId, type ServerName, type UserId } from "../events/ids.js";
import { DEFAULT_ROOM_VERSION, roomVersion } from "../events/room-versions.js";
import type { Storage } from "../storage/storage.js";
import type { EventWriter } from "./event-writer.js";
import type { Memberships } from "./memberships.js";

export type Preset = "private_chat" | "public_chat" | "trusted_private_chat";

export interface CreateRoomRequest {
  visibility?: "public" | "private";
  room_alias_name?: string;
  name?: string;
  topic?: string;
  invite?: string[];
  room_version?: string;
  creation_content?: Record<string, unknown>;
  initial_state?: { type: string; state_key?: string; content: Record<string, unknown> }[];
  preset?: Preset;
  is_direct?: boolean;
  power_level_content_override?: Record<string, unknown>;
}

const PRESETS: Record<Preset, { joinRule: string; historyVisibility: string; guestAccess: string | null; inviteesAreAdmins: boolean; inviteLevel: number }> = {
  private_chat: { joinRule: "invite", historyVisibility: "shared", guestAccess: "can_join", inviteesAreAdmins: false, inviteLevel: 0 },
  trusted_private_chat: { joinRule: "invite", historyVisibility: "shared", guestAccess: "can_join", inviteesAreAdmins: true, inviteLevel: 0 },
  public_chat: { joinRule: "public", historyVisibility: "shared", guestAccess: null, inviteesAreAdmins: false, inviteLevel: 50 },
};

export class RoomCreator {
  constructor(
    private readonly storage: Storage,
    private readonly writer: EventWriter,
    private readonly memberships: Memberships,
    private readonly serverName: ServerName,
  ) {}

  async create(creator: UserId, req: CreateRoomRequest): Promise<{ room_id: string }> {
    const version = roomVersion(req.room_version ?? DEFAULT_ROOM_VERSION);
    if (!version) throw new UnsupportedRoomVersionError(`Room version ${req.room_version} is not supported`);
    const invitees = (req.invite ?? []).map((u) => parseUserId(u));
    for (const invitee of invitees) await this.memberships.requireLocalUser(invitee);
    const alias = req.room_alias_name !== undefined ? this.aliasFor(req.room_alias_name) : null;
    if (alias && (await this.storage.aliases.get(alias))) throw new RoomInUseError("Room alias already taken");
    const preset = PRESETS[req.preset ?? (req.visibility === "public" ? "public_chat" : "private_chat")];
    // Checked before anything is written, so a refused request leaves no half-made room.
    const initial = new Map((req.initial_state ?? []).map((e) => [`${e.type}\u0000${e.state_key ?? ""}`, e]));
    for (const e of initial.values()) {
      if (e.type === "m.room.create" || e.type === "m.room.member") throw new BadJsonError(`initial_state may not contain ${e.type}`);
    }

    const roomId = newRoomId(this.serverName);
    const createContent: Record<string, unknown> = { ...req.creation_content, room_version: version.id };
    if (version.createHasCreator) createContent.creator = creator;
    else delete createContent.creator;
    await this.writer.createRoom(roomId, creator, version, createContent);
    await this.memberships.join(creator, roomId);

    const users: Record<string, number> = { [creator]: 100 };
    if (preset.inviteesAreAdmins) for (const u of invitees) users[u] = 100;
    const powerLevels: Record<string, unknown> = {
      users,
      users_default: 0,
      events: {
        "m.room.name": 50,
        "m.room.power_levels": 100,
        "m.room.history_visibility": 100,
        "m.room.canonical_alias": 50,
        "m.room.avatar": 50,
        "m.room.tombstone": 100,
        "m.room.server_acl": 100,
        "m.room.encryption": 100,
      },
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: preset.inviteLevel,
      historical: 100,
      ...req.power_level_content_override,
    };
    const state = (type: string, content: Record<string, unknown>, stateKey = "") =>
      this.writer.send({ roomId, sender: creator, type, stateKey, content });

    // Like Synapse, power levels given in initial_state replace the generated ones outright
    // and are sent in their place; any other preset event named there is not sent at all.
    const initialPowerLevels = initial.get("m.room.power_levels\u0000");
    initial.delete("m.room.power_levels\u0000");
    await state("m.room.power_levels", initialPowerLevels?.content ?? powerLevels);
    const unlessInitial = async (type: string, content: Record<string, unknown>) => {
      if (!initial.has(`${type}\u0000`)) await state(type, content);
    };
    if (alias) {
      if (!(await this.storage.aliases.create({ alias, roomId, creator }))) throw new RoomInUseError("Room alias already taken");
      await unlessInitial("m.room.canonical_alias", { alias });
    }
    await unlessInitial("m.room.join_rules", { join_rule: preset.joinRule });
    await unlessInitial("m.room.history_visibility", { history_visibility: preset.historyVisibility });
    if (preset.guestAccess) await unlessInitial("m.room.guest_access", { guest_access: preset.guestAccess });
    for (const e of initial.values()) await state(e.type, e.content, e.state_key ?? "");
    if (req.name !== undefined) await state("m.room.name", { name: req.name });
    if (req.topic !== undefined) await state("m.room.topic", { topic: req.topic });
    for (const invitee of invitees) await this.memberships.invite(creator, roomId, invitee, { isDirect: req.is_direct === true });
    if (req.visibility === "public") await this.storage.rooms.setVisibility(roomId, "public");
    return { room_id: roomId };
  }

  private aliasFor(localpart: string): string {
    if (localpart.length === 0 || /[:\s#]/.test(localpart)) throw new InvalidParamError("Invalid room_alias_name");
    const alias = `#${localpart}:${this.serverName}`;
    if (alias.length > 255) throw new InvalidParamError("room_alias_name is too long");
    return alias;
  }
}
