/**
 * Pushers: GET /pushers and POST /pushers/set (pusher.yaml). Pushers are stored only;
 * delivering notifications to push gateways is not built yet.
 * In:  the request body of /pushers/set: `kind` null deletes the pusher (app_id, pushkey);
 *      otherwise it is created or replaced, and unless `append` is true the same
 *      (app_id, pushkey) is removed from every other user.
 * Checks: kind "http" only (no email sending here: 400), `data.url` required for http and
 *      an absolute http(s) URL whose path is /_matrix/push/v1/notify (as Synapse checks),
 *      app_id at most 64 characters, pushkey at most 512 bytes.
 * Throws: MissingParamError (M_MISSING_PARAM), InvalidParamError (M_INVALID_PARAM).
 */
import { InvalidParamError, MissingParamError } from "../errors/matrix-error.js";
import type { UserId } from "../events/ids.js";
import type { PusherRow } from "../storage/rows.js";
import type { Storage } from "../storage/storage.js";

/** A pusher as GET /pushers shows it. */
export interface PusherBody {
  pushkey: string;
  kind: string;
  app_id: string;
  app_display_name: string;
  device_display_name: string;
  profile_tag?: string;
  lang: string;
  data: Record<string, unknown>;
}

/** POST /pushers/set, after the schema check (types only). */
export interface SetPusherBody {
  kind: string | null;
  app_id: string;
  pushkey: string;
  app_display_name?: string;
  device_display_name?: string;
  profile_tag?: string;
  lang?: string;
  data?: Record<string, unknown>;
  append?: boolean;
}

const MAX_APP_ID_CHARS = 64;
const MAX_PUSHKEY_BYTES = 512;
const NOTIFY_PATH = "/_matrix/push/v1/notify";

function checkUrl(url: unknown): void {
  if (url === undefined) throw new MissingParamError("'data.url' is required for http pushers");
  let parsed: URL;
  try {
    if (typeof url !== "string") throw new TypeError("not a string");
    parsed = new URL(url);
  } catch {
    throw new InvalidParamError("'data.url' must be an absolute URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new InvalidParamError("'data.url' must be an http(s) URL");
  if (parsed.pathname !== NOTIFY_PATH) throw new InvalidParamError(`'data.url' must have the path ${NOTIFY_PATH}`);
}

export class Pushers {
  constructor(private readonly storage: Storage) {}

  async list(userId: UserId): Promise<{ pushers: PusherBody[] }> {
    const rows = await this.storage.push.pushers(userId);
    return {
      pushers: rows.map((r) => ({
        pushkey: r.pushkey,
        kind: r.kind,
        app_id: r.appId,
        app_display_name: r.appDisplayName,
        device_display_name: r.deviceDisplayName,
        ...(r.profileTag !== null ? { profile_tag: r.profileTag } : {}),
        lang: r.lang,
        data: r.data,
      })),
    };
  }

  async set(userId: UserId, body: SetPusherBody): Promise<void> {
    if (body.app_id.length > MAX_APP_ID_CHARS) throw new InvalidParamError(`'app_id' is longer than ${MAX_APP_ID_CHARS} characters`);
    if (Buffer.byteLength(body.pushkey, "utf8") > MAX_PUSHKEY_BYTES) throw new InvalidParamError(`'pushkey' is longer than ${MAX_PUSHKEY_BYTES} bytes`);
    if (body.kind === null) {
      await this.storage.push.deletePusher(userId, body.app_id, body.pushkey);
      return;
    }
    const missing = (["app_display_name", "device_display_name", "lang", "data"] as const).filter((k) => body[k] === undefined);
    if (missing.length > 0) throw new MissingParamError(`Missing parameters: ${missing.join(", ")}`);
    if (body.kind !== "http") throw new InvalidParamError(`Unsupported pusher kind: ${body.kind}`);
    checkUrl(body.data!.url);
    const row: PusherRow = {
      userId,
      appId: body.app_id,
      pushkey: body.pushkey,
      kind: body.kind,
      appDisplayName: body.app_display_name!,
      deviceDisplayName: body.device_display_name!,
      profileTag: body.profile_tag ?? null,
      lang: body.lang!,
      data: body.data!,
    };
    await this.storage.push.setPusher(row, body.append === true);
  }
}
