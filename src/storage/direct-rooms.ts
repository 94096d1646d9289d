/**
 * The rooms a user's global `m.direct` account data lists ({userId: [roomId, …]}): the
 * per-room DM flag of sliding sync. Every backend derives its DM set with this function, in
 * the transaction that stores m.direct, so the flag can never disagree with the content.
 * Entries that are not arrays, and array items that are not room-id-like strings, are skipped
 * (clients write this document freely; Synapse stores it unchecked).
 */
export function dmRoomIdsOf(content: Record<string, unknown>): string[] {
  const rooms = new Set<string>();
  for (const value of Object.values(content)) {
    if (!Array.isArray(value)) continue;
    for (const item of value) if (typeof item === "string" && item.startsWith("!")) rooms.add(item);
  }
  return [...rooms].sort();
}
