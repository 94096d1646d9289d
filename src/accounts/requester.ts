/** Who is making an authenticated request: resolved from the access token by Authenticator. */
import type { DeviceId, UserId } from "../events/ids.js";

export interface Requester {
  readonly userId: UserId;
  readonly deviceId: DeviceId;
  readonly isAdmin: boolean;
  /** Hash of the access token used, for logging out exactly this session. */
  readonly accessTokenHash: string;
}
