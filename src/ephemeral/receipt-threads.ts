/**
 * Does a receipt's event belong to the thread the client named? Synapse's rules for
 * POST /receipt with a `thread_id` (its get_thread_id and get_thread_id_for_receipts), which
 * follow relations (`m.relates_to`) upwards at most MAX_HOPS times (Synapse allows a few more):
 *
 *   A <--[m.thread]-- B <--[m.annotation]-- C
 *   ^
 *   |--[m.reference]-- D <--[m.annotation]-- E
 *
 *   - "main" fits an event with no m.thread relation anywhere up its chain: A, D and E
 *     (B and C are in thread A);
 *   - a root id R fits when the top-most event of the chain (the event itself when it relates
 *     to nothing) is R and R has at least one m.thread reply: A, B, C, D and E for thread A.
 * In: storage (event look-ups and the relation index), the event, the requested thread id.
 * Out: true or false; the caller turns false into 400 M_INVALID_PARAM.
 */
import type { Storage } from "../storage/storage.js";
import type { EventRow } from "../storage/rows.js";

export const MAIN_THREAD = "main";
/** The spec recommends 3 hops ("Threaded read receipts"); push/thread-of.ts uses the same bound. */
const MAX_HOPS = 3;

interface Relation {
  relType: string;
  target: string;
}

function relationOf(ev: EventRow): Relation | null {
  const rel = ev.pdu.content["m.relates_to"];
  if (typeof rel !== "object" || rel === null) return null;
  const { rel_type: relType, event_id: target } = rel as Record<string, unknown>;
  return typeof relType === "string" && typeof target === "string" ? { relType, target } : null;
}

/** The relations from the event upwards, nearest first (stops at an unknown event). */
async function relationChain(storage: Storage, event: EventRow): Promise<Relation[]> {
  const chain: Relation[] = [];
  let current: EventRow | null = event;
  while (current && chain.length < MAX_HOPS) {
    const rel = relationOf(current);
    if (!rel) break;
    chain.push(rel);
    current = await storage.events.get(rel.target);
  }
  return chain;
}

export async function isEventInThread(storage: Storage, event: EventRow, threadId: string): Promise<boolean> {
  const chain = await relationChain(storage, event);
  if (threadId === MAIN_THREAD) return !chain.some((r) => r.relType === "m.thread");
  const top = chain.at(-1)?.target ?? event.eventId;
  if (top !== threadId) return false;
  const replies = await storage.events.relations(top, "m.thread", { dir: "b", from: null, to: null, limit: 1 });
  return replies.length > 0;
}
