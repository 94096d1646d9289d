/**
 * Keeps room_summaries current inside the event transaction: the fields an event sets, the
 * bump position, and — after a membership change — member counts and heroes.
 */
import type { Database } from "better-sqlite3";
import type { RoomSummaryPatch } from "../rows.js";

const COLUMN: Record<keyof RoomSummaryPatch, string> = {
  name: "name",
  canonicalAlias: "canonical_alias",
  avatarUrl: "avatar_url",
  topic: "topic",
  encryption: "encryption",
  roomType: "room_type",
  joinRule: "join_rule",
  historyVisibility: "history_visibility",
  guestAccess: "guest_access",
};

export function applySummary(db: Database, roomId: string, pos: number, patch: RoomSummaryPatch, bumps: boolean, membershipChanged: boolean): void {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [key, column] of Object.entries(COLUMN) as [keyof RoomSummaryPatch, string][]) {
    if (patch[key] !== undefined) {
      sets.push(`${column} = ?`);
      values.push(patch[key]);
    }
  }
  if (bumps) {
    sets.push("bump_pos = ?");
    values.push(pos);
  }
  if (membershipChanged) {
    const counts = db
      .prepare("SELECT SUM(membership = 'join') AS joined, SUM(membership = 'invite') AS invited FROM room_memberships WHERE room_id = ?")
      .get(roomId) as { joined: number | null; invited: number | null };
    const heroes = (
      db
        .prepare(
          `SELECT user_id FROM room_memberships WHERE room_id = ? AND membership IN ('join', 'invite')
           ORDER BY membership = 'invite', pos LIMIT 6`,
        )
        .all(roomId) as { user_id: string }[]
    ).map((r) => r.user_id);
    sets.push("joined_count = ?", "invited_count = ?", "heroes = ?");
    values.push(counts.joined ?? 0, counts.invited ?? 0, JSON.stringify(heroes));
  }
  if (sets.length > 0) db.prepare(`UPDATE room_summaries SET ${sets.join(", ")} WHERE room_id = ?`).run(...values, roomId);
}
