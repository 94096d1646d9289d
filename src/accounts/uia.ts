/**
 * User-interactive authentication (spec "User-Interactive Authentication API").
 * In:  the request's `auth` dict, the flows the endpoint allows, and what it protects
 *      (`purpose`, plus the user who must prove their password, if any).
 * Out: resolves when one flow is complete; otherwise throws UiaRequiredError, a 401 whose
 *      body carries flows, params, session and completed stages (plus errcode when a stage
 *      failed). Sessions live in storage, bound to their purpose and user, so a session
 *      started for one user or endpoint cannot complete another.
 */
import { ForbiddenError, InvalidParamError, UiaRequiredError, UnknownError, type MatrixError } from "../errors/matrix-error.js";
import { localUserIdFromLogin, type ServerName, type UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../util/clock.js";
import { randomString } from "../util/random.js";
import type { PasswordHasher } from "./passwords.js";

export const STAGE_DUMMY = "m.login.dummy";
export const STAGE_PASSWORD = "m.login.password";
export const STAGE_REGISTRATION_TOKEN = "m.login.registration_token";

export interface UiaFlow {
  stages: string[];
}

export interface UiaRequirement {
  auth: unknown;
  flows: UiaFlow[];
  /** Binds the session: e.g. "register", "delete_devices". */
  purpose: string;
  /** The user whose password m.login.password must check. */
  userId?: UserId;
}

interface SessionData {
  purpose: string;
  userId: string | null;
  completed: string[];
}

export interface UiaOptions {
  serverName: ServerName;
  sessionTtlMs: number;
  registrationTokens: readonly string[];
}

export class UserInteractiveAuth {
  constructor(
    private readonly storage: Storage,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly opts: UiaOptions,
  ) {}

  async require(req: UiaRequirement): Promise<void> {
    const auth = isObject(req.auth) ? req.auth : null;
    const sessionId = typeof auth?.session === "string" ? auth.session : null;
    let data: SessionData;
    let id: string;
    if (sessionId) {
      const row = await this.storage.uia.get(sessionId, this.clock.now());
      const bound = row?.data as SessionData | undefined;
      if (!row || !bound || bound.purpose !== req.purpose || bound.userId !== (req.userId ?? null)) {
        throw new InvalidParamError("Unknown or expired UIA session");
      }
      data = bound;
      id = sessionId;
    } else {
      id = randomString(18);
      data = { purpose: req.purpose, userId: req.userId ?? null, completed: [] };
      await this.storage.uia.create({ sessionId: id, data: { ...data }, expiresTs: this.clock.now() + this.opts.sessionTtlMs });
    }

    const challenge = () => ({ flows: req.flows, params: {}, session: id, ...(data.completed.length ? { completed: data.completed } : {}) });
    if (!auth || auth.type === undefined) throw new UiaRequiredError(challenge());

    const type = auth.type;
    const allowed = req.flows.some((f) => f.stages.includes(String(type)));
    if (typeof type !== "string" || !allowed) {
      throw new UiaRequiredError(challenge(), new UnknownError(`Authentication type not allowed here: ${String(type)}`));
    }
    const failure = await this.runStage(type, auth, req);
    if (failure) throw new UiaRequiredError(challenge(), failure);

    if (!data.completed.includes(type)) data.completed.push(type);
    if (req.flows.some((f) => f.stages.every((s) => data.completed.includes(s)))) {
      await this.storage.uia.delete(id);
      return;
    }
    await this.storage.uia.update(id, { ...data });
    throw new UiaRequiredError(challenge());
  }

  /** Returns the reason a stage failed, or null when it passed. */
  private async runStage(type: string, auth: Record<string, unknown>, req: UiaRequirement): Promise<MatrixError | null> {
    switch (type) {
      case STAGE_DUMMY:
        return null;
      case STAGE_REGISTRATION_TOKEN:
        return typeof auth.token === "string" && this.opts.registrationTokens.includes(auth.token)
          ? null
          : new ForbiddenError("Invalid registration token");
      case STAGE_PASSWORD: {
        if (!req.userId) return new ForbiddenError("No user to authenticate");
        const identifier = isObject(auth.identifier) ? auth.identifier : null;
        const name = identifier?.type === "m.id.user" ? identifier.user : auth.user;
        const claimed = typeof name === "string" ? localUserIdFromLogin(name, this.opts.serverName) : null;
        if (claimed !== req.userId || typeof auth.password !== "string") return new ForbiddenError("Invalid password");
        const user = await this.storage.accounts.getUser(req.userId);
        if (!user?.passwordHash || !(await this.hasher.verify(auth.password, user.passwordHash))) return new ForbiddenError("Invalid password");
        return null;
      }
      default:
        return new UnknownError(`Unsupported authentication type: ${type}`);
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
