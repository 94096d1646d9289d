/**
 * Which thread an event belongs to, for per-thread notification counts (client-server API,
 * "Receiving notifications": follow the event's relations until an `m.thread` relation names
 * the thread root, at most 3 hops, so that e.g. a reaction to a threaded message counts in
 * that thread).
 * In:  the event's content and a lookup of earlier events by id.
 * Out: the thread root's event id, or "main" (the main timeline, which holds thread roots).
 * Cost: one lookup per hop, and none for events without a relation.
 */
import type { Pdu } from "../events/pdu.js";

export const MAIN_THREAD = "main";
const MAX_HOPS = 3;

type Lookup = (eventId: string) => Promise<Pdu | null>;

function relationOf(content: Record<string, unknown>): { relType: unknown; eventId: string } | null {
  const rel = content["m.relates_to"];
  if (typeof rel !== "object" || rel === null || Array.isArray(rel)) return null;
  const r = rel as Record<string, unknown>;
  return typeof r.event_id === "string" ? { relType: r.rel_type, eventId: r.event_id } : null;
}

export async function threadIdOf(content: Record<string, unknown>, lookup: Lookup): Promise<string> {
  let rel = relationOf(content);
  for (let hop = 0; rel && hop < MAX_HOPS; hop++) {
    if (rel.relType === "m.thread") return rel.eventId;
    if (hop === MAX_HOPS - 1) break;
    const parent = await lookup(rel.eventId);
    rel = parent ? relationOf(parent.content) : null;
  }
  return MAIN_THREAD;
}
