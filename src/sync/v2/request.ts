/**
 * Parses a GET /sync request into a SyncV2Request: filter (stored id or inline JSON),
 * `since` token, `timeout` (bounded by the configured maximum), `full_state`,
 * `set_presence`, `use_state_after` under its stable or unstable name, and MSC2855's
 * `org.matrix.msc2855.clear_cache` opt-in. For an initial sync it also reads the position of
 * the user's `m.ignored_user_list`, which is part of the request's identity.
 * Every malformed parameter is a 400 with the spec's errcode; nothing is guessed.
 */
import Value from "typebox/value";
import { BadJsonError, InvalidParamError } from "../../errors/matrix-error.js";
import type { UserId } from "../../events/ids.js";
import { Filter, type FilterBody } from "../../filters/filter-schema.js";
import { IGNORED_USER_LIST } from "../../rooms/ignored-users.js";
import type { Storage } from "../../storage/storage.js";
import type { StreamPos } from "../../streams/position.js";
import { decodeSyncToken, type SyncToken } from "../../streams/sync-token.js";

export type StateAfterField = "state_after" | "org.matrix.msc4222.state_after";

export interface SyncV2Request {
  filter: FilterBody;
  /** Stored filter id or the inline JSON text: part of the identity of a request. */
  filterKey: string;
  since: SyncToken | null;
  timeoutMs: number;
  fullState: boolean;
  setPresence: "online" | "offline" | "unavailable";
  /** Which field carries state_after, or null for the classic `state`. */
  stateAfter: StateAfterField | null;
  /**
   * `org.matrix.msc2855.clear_cache=true`: the client understands MSC2855's "200 without
   * next_batch" (drop your cache, sync again without `since`) when its token is stale.
   */
  clearCache: boolean;
  /**
   * Initial syncs only (else null): the position of the user's `m.ignored_user_list`. Part of
   * the request's identity, as in Synapse's response-cache key: the timeline drops ignored
   * users' events, so an initial sync computed before the list changed is not handed to a
   * request made after.
   */
  ignoreListPos: StreamPos | null;
  /**
   * Set by the engine, never by a client: this initial sync answers a stale token
   * (`sync.staleSince: full_state`), so every room is `limited` and left rooms are listed.
   */
  resync?: boolean;
}

function bool(name: string, v: string | undefined): boolean {
  if (v === undefined || v === "false") return false;
  if (v === "true") return true;
  throw new InvalidParamError(`${name} must be true or false`);
}

export async function parseSyncRequest(
  query: Record<string, string | undefined>,
  userId: UserId,
  storage: Storage,
  timeoutMaxMs: number,
): Promise<SyncV2Request> {
  if (query.from !== undefined && query.since === undefined) throw new InvalidParamError("Unknown parameter 'from'; did you mean 'since'?");
  const since = query.since !== undefined && query.since !== "" ? decodeSyncToken(query.since) : null;

  let timeoutMs = 0;
  if (query.timeout !== undefined) {
    if (!/^\d{1,10}$/.test(query.timeout)) throw new InvalidParamError("timeout must be a non-negative integer");
    timeoutMs = Math.min(Number(query.timeout), timeoutMaxMs);
  }

  const setPresence = query.set_presence ?? "online";
  if (setPresence !== "online" && setPresence !== "offline" && setPresence !== "unavailable") {
    throw new InvalidParamError("set_presence must be online, offline or unavailable");
  }

  // Clients send one name or the other (js-sdk the unstable one); answer in kind, unstable wins.
  const unstable = bool("org.matrix.msc4222.use_state_after", query["org.matrix.msc4222.use_state_after"]);
  const stable = bool("use_state_after", query.use_state_after);
  const stateAfter: StateAfterField | null = unstable ? "org.matrix.msc4222.state_after" : stable ? "state_after" : null;

  const { filter, filterKey } = await resolveFilter(query.filter, userId, storage);
  const clearCache = bool("org.matrix.msc2855.clear_cache", query["org.matrix.msc2855.clear_cache"]);
  const ignoreListPos = since === null ? ((await storage.accountData.get(userId, null, IGNORED_USER_LIST))?.pos ?? null) : null;
  return { filter, filterKey, since, timeoutMs, fullState: bool("full_state", query.full_state), setPresence, stateAfter, clearCache, ignoreListPos };
}

async function resolveFilter(raw: string | undefined, userId: UserId, storage: Storage): Promise<{ filter: FilterBody; filterKey: string }> {
  if (raw === undefined || raw === "") return { filter: {}, filterKey: "" };
  // The spec's rule: a filter starting with "{" is inline JSON, anything else a stored id.
  if (raw.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new InvalidParamError("filter is not valid JSON");
    }
    const problem = Value.Errors(Filter, parsed)[0];
    if (problem) throw new BadJsonError(`filter${problem.instancePath}: ${problem.message}`);
    return { filter: parsed as FilterBody, filterKey: raw };
  }
  const stored = await storage.filters.get(userId, raw);
  if (!stored) throw new InvalidParamError(`Unknown filter id: ${raw.slice(0, 64)}`);
  return { filter: stored as FilterBody, filterKey: `id:${raw}` };
}
