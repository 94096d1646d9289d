/** Profiles: display name and avatar URL. Anyone may read; only the owner may write. */
import { ForbiddenError, NotFoundError, BadJsonError } from "../errors/matrix-error.js";
import type { UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../util/clock.js";
import type { Requester } from "./requester.js";

export type ProfileField = "displayname" | "avatar_url";

const MAX_LENGTH: Record<ProfileField, number> = { displayname: 256, avatar_url: 1000 };

export interface ProfileBody {
  displayname?: string;
  avatar_url?: string;
}

export class Profiles {
  constructor(private readonly storage: Storage, private readonly clock: Clock) {}

  async get(userId: UserId): Promise<ProfileBody> {
    const u = await this.storage.accounts.getUser(userId);
    if (!u || u.deactivated) throw new NotFoundError("Profile not found");
    const body: ProfileBody = {};
    if (u.displayname !== null) body.displayname = u.displayname;
    if (u.avatarUrl !== null) body.avatar_url = u.avatarUrl;
    return body;
  }

  async set(requester: Requester, userId: UserId, field: ProfileField, value: string | null): Promise<void> {
    if (requester.userId !== userId && !requester.isAdmin) throw new ForbiddenError("You may only change your own profile");
    if (value !== null && value.length > MAX_LENGTH[field]) throw new BadJsonError(`${field} is longer than ${MAX_LENGTH[field]} characters`);
    if (field === "avatar_url" && value !== null && value !== "" && !value.startsWith("mxc://")) {
      throw new BadJsonError("avatar_url must be an mxc:// URI");
    }
    if (!(await this.storage.accounts.setProfileField(userId, field, value === "" ? null : value, this.clock.now()))) {
      throw new NotFoundError("Profile not found");
    }
  }
}
