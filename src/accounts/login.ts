/**
 * Password login (POST /login with m.login.password). Every failure that could reveal
 * whether an account exists answers the same 403 M_FORBIDDEN; deactivated accounts get
 * M_USER_DEACTIVATED, as Synapse answers.
 */
import { ForbiddenError, UnknownError, UserDeactivatedError, BadJsonError } from "../errors/matrix-error.js";
import { localUserIdFromLogin, type DeviceId, type ServerName, type UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import type { PasswordHasher } from "./passwords.js";
import type { IssuedTokens, Sessions } from "./sessions.js";

export interface LoginRequest {
  type: string;
  identifier?: { type?: unknown; user?: unknown } & Record<string, unknown>;
  /** Legacy top-level user field (r0 clients such as older nio). */
  user?: string;
  password?: string;
  deviceId?: DeviceId;
  initialDeviceDisplayName?: string;
  withRefresh: boolean;
  ip: string | null;
}

export class PasswordLogin {
  constructor(
    private readonly storage: Storage,
    private readonly hasher: PasswordHasher,
    private readonly sessions: Sessions,
    private readonly serverName: ServerName,
  ) {}

  /** The account a login body names, or null; used for per-account rate limiting too. */
  claimedUser(req: Pick<LoginRequest, "identifier" | "user">): UserId | null {
    const name = req.identifier ? (req.identifier.type === "m.id.user" ? req.identifier.user : undefined) : req.user;
    return typeof name === "string" ? localUserIdFromLogin(name, this.serverName) : null;
  }

  async login(req: LoginRequest): Promise<IssuedTokens> {
    if (req.type !== "m.login.password") throw new UnknownError(`Unknown login type ${req.type}`);
    if (req.identifier && req.identifier.type !== "m.id.user") {
      throw new UnknownError(`Unsupported identifier type: ${String(req.identifier.type)}`);
    }
    if (!req.identifier && req.user === undefined) throw new BadJsonError("Missing identifier");
    if (typeof req.password !== "string") throw new BadJsonError("Missing password");
    const userId = this.claimedUser(req);
    const user = userId ? await this.storage.accounts.getUser(userId) : null;
    if (user?.deactivated) throw new UserDeactivatedError("This account has been deactivated");
    if (!userId || !user?.passwordHash || !(await this.hasher.verify(req.password, user.passwordHash))) {
      throw new ForbiddenError("Invalid username or password");
    }
    return this.sessions.create({
      userId,
      deviceId: req.deviceId,
      displayName: req.initialDeviceDisplayName ?? null,
      withRefresh: req.withRefresh,
      ip: req.ip,
    });
  }
}
