/**
 * Registration (POST /register, GET /register/available) and admin-made accounts (CLI).
 * Order of checks follows Synapse: kind and policy, then the user name (so a taken name is
 * reported before the client walks through UIA), then UIA, then the write.
 */
import {
  ForbiddenError,
  GuestAccessForbiddenError,
  UserInUseError,
  WeakPasswordError,
} from "../errors/matrix-error.js";
import { userIdForNewLocalpart, type DeviceId, type ServerName, type UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../util/clock.js";
import type { PasswordHasher } from "./passwords.js";
import type { IssuedTokens, Sessions } from "./sessions.js";
import { STAGE_DUMMY, STAGE_REGISTRATION_TOKEN, type UserInteractiveAuth } from "./uia.js";
import { randomInt } from "node:crypto";

export type RegistrationMode = "closed" | "open" | "token";

export interface RegisterRequest {
  kind: string;
  username?: string;
  password?: string;
  deviceId?: DeviceId;
  initialDeviceDisplayName?: string;
  inhibitLogin: boolean;
  withRefresh: boolean;
  auth: unknown;
  ip: string | null;
}

export type RegisterResult = { user_id: UserId } & Partial<IssuedTokens>;

export interface RegistrationOptions {
  mode: RegistrationMode;
  serverName: ServerName;
  minPasswordLength: number;
}

export class Registration {
  constructor(
    private readonly storage: Storage,
    private readonly hasher: PasswordHasher,
    private readonly uia: UserInteractiveAuth,
    private readonly sessions: Sessions,
    private readonly clock: Clock,
    private readonly opts: RegistrationOptions,
  ) {}

  async register(req: RegisterRequest): Promise<RegisterResult> {
    if (req.kind === "guest") throw new GuestAccessForbiddenError("Guest access is disabled");
    if (req.kind !== "user") throw new ForbiddenError(`Unknown registration kind: ${req.kind}`);
    if (this.opts.mode === "closed") throw new ForbiddenError("Registration is disabled");
    if (req.username !== undefined) await this.checkAvailable(req.username);
    if (req.password !== undefined) this.checkPasswordStrength(req.password);

    const stage = this.opts.mode === "token" ? STAGE_REGISTRATION_TOKEN : STAGE_DUMMY;
    await this.uia.require({ auth: req.auth, flows: [{ stages: [stage] }], purpose: "register" });

    const passwordHash = req.password !== undefined ? await this.hasher.hash(req.password) : null;
    const session = req.inhibitLogin
      ? null
      : { deviceId: req.deviceId, displayName: req.initialDeviceDisplayName ?? null, withRefresh: req.withRefresh, ip: req.ip };

    for (let attempt = 0; attempt < 10; attempt++) {
      const userId = req.username !== undefined
        ? userIdForNewLocalpart(req.username, this.opts.serverName)
        : userIdForNewLocalpart(String(randomInt(10_000_000, 99_999_999)), this.opts.serverName);
      const prepared = session ? this.sessions.prepare({ ...session, userId }) : null;
      const outcome = await this.storage.accounts.createUser(
        { userId, passwordHash, isAdmin: false, displayname: localpartOf(userId) },
        prepared?.row ?? null,
        this.clock.now(),
      );
      if (outcome === "created") return prepared ? { ...prepared.tokens } : { user_id: userId };
      if (req.username !== undefined) throw new UserInUseError("User ID already taken");
    }
    throw new Error("could not generate a free user id");
  }

  /** GET /register/available: true, or throws M_INVALID_USERNAME / M_USER_IN_USE. */
  async checkAvailable(username: string): Promise<true> {
    const userId = userIdForNewLocalpart(username, this.opts.serverName);
    if (await this.storage.accounts.userExists(userId)) throw new UserInUseError("User ID already taken");
    return true;
  }

  checkPasswordStrength(password: string): void {
    if (password.length < this.opts.minPasswordLength) {
      throw new WeakPasswordError(`Password must be at least ${this.opts.minPasswordLength} characters`);
    }
  }

  /** Operator path (CLI `sluice create-user`): no policy, no UIA. */
  async createByAdmin(localpart: string, password: string | null, isAdmin: boolean): Promise<UserId> {
    const userId = userIdForNewLocalpart(localpart, this.opts.serverName);
    const passwordHash = password !== null ? await this.hasher.hash(password) : null;
    const outcome = await this.storage.accounts.createUser({ userId, passwordHash, isAdmin, displayname: localpart }, null, this.clock.now());
    if (outcome === "exists") throw new UserInUseError(`${userId} already exists`);
    return userId;
  }
}

function localpartOf(userId: UserId): string {
  return userId.slice(1, userId.indexOf(":"));
}
